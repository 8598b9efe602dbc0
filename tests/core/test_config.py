"""Config: every mistake stops start-up with one message naming the file, the key, and what
is expected."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import config
from bot.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def load_text(tmp_path: Path, body: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return config.load(path)


def test_documented_example_equals_builtin_defaults() -> None:
    assert config.load(ROOT / "config.toml") == config.Settings()


def test_no_file_means_builtin_defaults() -> None:
    settings = config.load(None)
    assert settings.database.url == "sqlite:///var/execbot.db"
    assert settings.telegram.mode == "polling"
    assert settings.invites.ttl == timedelta(days=7)


def test_values_are_read(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        '[telegram]\nmode = "webhook"\npoll_timeout = "90s"\n'
        '[plant]\ntimezone = "America/New_York"\n[invites]\nttl = "1d12h"\n'
        '[access]\nadmins = ["m.keller"]\n'
        '[database]\nurl = "postgresql://execbot@db/execbot"\n',
    )
    assert settings.telegram.mode == "webhook"
    assert settings.telegram.poll_timeout == timedelta(seconds=90)
    assert settings.plant.timezone == "America/New_York"
    assert settings.invites.ttl == timedelta(days=1, hours=12)
    assert settings.access.admins == ("m.keller",)
    assert settings.database.url == "postgresql+psycopg://execbot@db/execbot"


def test_server_and_webhook_connections(tmp_path: Path) -> None:
    assert config.Settings().server.port == 0  # no operations server in polling mode
    assert config.Settings().telegram.webhook.max_connections == 40
    settings = load_text(
        tmp_path,
        '[server]\nlisten = "0.0.0.0"\nport = 9100\n[telegram.webhook]\nmax_connections = 5\n',
    )
    assert (settings.server.listen, settings.server.port) == ("0.0.0.0", 9100)
    assert settings.telegram.webhook.max_connections == 5


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[telegram]\nmoed = 'polling'\n", "[telegram] moed: unknown key"),
        ("[telgram]\n", "telgram: unknown key"),
        (
            "[telegram]\nmode = 'poll'\n",
            "[telegram] mode: expected 'polling' or 'webhook', got 'poll'",
        ),
        ("[telegram]\npoll_timeout = 30\n", "[telegram] poll_timeout: expected a duration"),
        (
            "[invites]\nttl = '7 days'\n",
            "[invites] ttl: duration: expected a whole number with a unit",
        ),
        ("[invites]\nttl = '0s'\n", "[invites] ttl:"),
        (
            "[plant]\ntimezone = 'Mars/Olympus'\n",
            "[plant] timezone: expected an IANA timezone name",
        ),
        (  # a name longer than a file name may be: ZoneInfo raised OSError, a traceback
            "[plant]\ntimezone = '" + "Europe/" + "x" * 300 + "'\n",
            "[plant] timezone: expected an IANA timezone name",
        ),
        ("[database]\nurl = 'mysql://x'\n", "[database] url: expected a SQLite URL"),
        (
            "[database]\nauto_migrate = 'yes'\n",
            "[database] auto_migrate: expected true or false, got 'yes'",
        ),
        (
            "[telegram.webhook]\nport = 'eighty'\n",
            "[telegram.webhook] port: expected a whole number",
        ),
        ("[telegram.webhook]\nport = 70000\n", "[telegram.webhook] port:"),
        ("[telegram.webhook]\nmax_connections = 101\n", "[telegram.webhook] max_connections:"),
        ("[server]\nport = -1\n", "[server] port:"),
        ("[server]\nprot = 9100\n", "[server] prot: unknown key"),
        (
            "[telegram]\napi_base_url = 'api.telegram.org'\n",
            "[telegram] api_base_url: expected an http",
        ),
        ("[logging]\nlevel = 'LOUD'\n", "[logging] level: expected"),
        ("telegram = 5\n", "telegram: expected a table"),
        ("[access]\nadmins = 'm.keller'\n", "[access] admins:"),
        ("[calendar]\ncontry = 'DE'\n", "[calendar] contry: unknown key"),
        (
            "[calendar]\ncountry = 'XX'\n",
            "[calendar] country: unknown country 'XX' for public holidays (expected an ISO 3166",
        ),
        (
            "[calendar]\ncountry = 'DE'\nsubdivision = 'XY'\n",
            "[calendar] subdivision: DE has no subdivision 'XY' (expected one of BB, BE, BW, BY,",
        ),
        (
            "[calendar]\nsubdivision = 'BY'\n",
            "[calendar] subdivision: a subdivision needs a country",
        ),
        ("[calendar]\ncountry = 49\n", "[calendar] country: expected a string, got 49"),
        (
            "[calendar]\nweekend = ['sat', 'sonday']\n",
            "[calendar] weekend: unknown weekday 'sonday' (expected mon, tue, wed,",
        ),
        (
            "[calendar]\ndays_off = ['2026-12-24', '24.12.2026']\n",
            "[calendar] days_off: expected a date like '2026-12-01', got '24.12.2026'",
        ),
        (
            "[calendar.days_off]\n2026-02-30 = 'Leap'\n",
            "[calendar] days_off: expected a date like '2026-12-01', got '2026-02-30'",
        ),
        (
            "[calendar]\ndays_off = { 2026-12-24 = 1 }\n",
            "[calendar] days_off: expected the reason as text, got 1",
        ),
        (
            "[calendar]\nextra_working_days = ['2026-13-01']\n",
            "[calendar] extra_working_days: expected a date like '2026-12-01', got '2026-13-01'",
        ),
        (
            "[calendar]\ndays_off = ['2026-12-24']\nextra_working_days = [2026-12-24]\n",
            "[calendar] extra_working_days: 2026-12-24 is both a plant day off and an extra",
        ),
    ],
)
def test_each_mistake_names_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, body)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "config.toml") + ": ")
    assert expected in message
    assert "\n" not in message  # one problem, one line


def test_calendar_values_are_read(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path,
        '[calendar]\ncountry = "DE"\nsubdivision = "BY"\nweekend = ["Sun"]\n'
        'extra_working_days = ["2026-05-02", 2026-01-03]\n'
        '[calendar.days_off]\n2026-12-24 = "Christmas shutdown"\n',
    )
    calendar = settings.calendar
    assert (calendar.country, calendar.subdivision, calendar.weekend) == ("DE", "BY", ("sun",))
    assert calendar.days_off == {date(2026, 12, 24): "Christmas shutdown"}
    assert calendar.extra_working_days == (date(2026, 1, 3), date(2026, 5, 2))
    as_list = load_text(tmp_path, '[calendar]\ndays_off = ["2026-12-31", 2026-12-24]\n')
    assert as_list.calendar.days_off == {
        date(2026, 12, 31): "plant day off",
        date(2026, 12, 24): "plant day off",
    }


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML"):
        load_text(tmp_path, "[telegram\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "nope.toml")


def test_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = config.Settings()
    monkeypatch.delenv("EXECBOT_TOKEN", raising=False)
    assert settings.token() is None
    monkeypatch.setenv("EXECBOT_TOKEN", " 123:abc ")
    assert settings.token() == "123:abc"


OWN_POLICY = """
[escalation]
units = { press = "fast" }
[escalation.policies.fast]
levels = [{ after = "10m", notify = "next" }]
"""


def test_item19_an_own_policy_keeps_the_builtin_standard(tmp_path: Path) -> None:
    settings = load_text(tmp_path, OWN_POLICY)
    assert list(settings.escalation.policies) == ["standard", "fast"]
    assert settings.escalation.default_policy == "standard"
    assert settings.escalation.policy() == config.Settings().escalation.policy()
    assert settings.escalation.unit_policies == {"press": "fast"}


def test_item19_redefining_standard_replaces_it(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path, '[escalation.policies.standard]\nlevels = [{ after = "5m", notify = "next" }]\n'
    )
    assert list(settings.escalation.policies) == ["standard"]
    assert [level.after for level in settings.escalation.policy().levels] == [timedelta(minutes=5)]
