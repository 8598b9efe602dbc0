"""``execbot doctor``: the set-up checked without changing anything; secrets reported as
present or not, never shown; dead updates listed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.render import texts
from bot.store.engine import make_engine
from models.tables import InboxUpdate
from tests.cli.runner import execbot

SECRET = "doctor-Secret_0123456789"
TOKEN = "123456:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ZX"


@pytest.fixture
def webhook_dir(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(
        '[telegram]\nmode = "webhook"\n[telegram.webhook]\n'
        'public_url = "https://bot.example.org/telegram"\n'
        '[database]\nurl = "sqlite:///data/bot.db"\n'
    )
    return tmp_path


def test_doctor_reports_the_webhook_secret_without_showing_it(webhook_dir: Path) -> None:
    execbot(webhook_dir, "db", "upgrade")
    result = execbot(
        webhook_dir, "doctor", env={"EXECBOT_TOKEN": TOKEN, "EXECBOT_WEBHOOK_SECRET": SECRET}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok  webhook secret: set in $EXECBOT_WEBHOOK_SECRET" in result.stdout
    assert "ok  listening on: 127.0.0.1:8443 (/telegram, /healthz, /readyz, /metrics)" in (
        result.stdout
    )
    assert "ok  schema: " in result.stdout and "(current)" in result.stdout
    assert "ok  inbox: pending 0, dead 0" in result.stdout
    for lang in texts.languages():
        assert f"ok  texts {lang}: complete" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        (None, "!!  webhook secret: webhook mode needs a secret: the environment variable "),
        (
            "not a valid secret!",
            "!!  webhook secret: the webhook secret in EXECBOT_WEBHOOK_SECRET ",
        ),
    ],
)
def test_doctor_flags_a_missing_or_malformed_secret(
    webhook_dir: Path, secret: str | None, says: str
) -> None:
    env = {"EXECBOT_TOKEN": TOKEN} | ({"EXECBOT_WEBHOOK_SECRET": secret} if secret else {})
    result = execbot(webhook_dir, "doctor", env=env)
    assert result.returncode == 1
    assert says in result.stdout
    if secret:
        assert secret not in result.stdout


def test_doctor_in_polling_mode_says_where_the_operations_server_is(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[server]\nport = 9100\n[database]\nurl = "sqlite:///bot.db"\n'
    )
    result = execbot(tmp_path, "doctor", env={"EXECBOT_TOKEN": TOKEN})
    assert "ok  mode: polling" in result.stdout
    assert "ok  /healthz, /readyz, /metrics: 127.0.0.1:9100" in result.stdout
    assert "webhook secret" not in result.stdout
    result = execbot(
        tmp_path, "doctor", env={"EXECBOT_TOKEN": TOKEN, "EXECBOT_SERVER_PORT": "9200"}
    )
    assert "ok  /healthz, /readyz, /metrics: 127.0.0.1:9200" in result.stdout


def test_doctor_lists_dead_updates(webhook_dir: Path) -> None:
    execbot(webhook_dir, "db", "upgrade")
    engine = make_engine(f"sqlite:///{webhook_dir / 'data' / 'bot.db'}")
    at = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    with Session(engine) as session:
        session.add(
            InboxUpdate(
                update_id=77,
                chat_key=4242,
                payload={"update_id": 77},
                state="dead",
                attempts=5,
                received_at=at,
                next_attempt_at=at,
                last_error="ValueError: no such duty",
            )
        )
        session.commit()
    engine.dispose()
    result = execbot(
        webhook_dir, "doctor", env={"EXECBOT_TOKEN": TOKEN, "EXECBOT_WEBHOOK_SECRET": SECRET}
    )
    assert result.returncode == 1
    assert "!!  inbox: pending 0, dead 1" in result.stdout
    assert "dead update 77 (chat 4242, 5 tries): ValueError: no such duty" in result.stdout


def test_doctor_says_when_the_database_does_not_answer(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "postgresql+psycopg://execbot:hunter2@127.0.0.1:9/none"\n'
    )
    result = execbot(tmp_path, "doctor", env={"EXECBOT_TOKEN": TOKEN})
    assert result.returncode == 1
    assert "!!  cannot open the database postgresql+psycopg://execbot:***@127.0.0.1:9/none" in (
        result.stdout
    )
    assert "hunter2" not in result.stdout
