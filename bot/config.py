"""Settings: ``config.toml`` read with ``tomllib`` and validated into typed, frozen settings.

Every key has a built-in default, so execbot runs with no file at all. A wrong key, type or
value stops start-up with ``ConfigError``, whose message names the file, the key and what is
expected. Secrets (the bot token, the webhook secret) are never in the file: the file names the
environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.calendar_source import check_country, check_subdivision
from bot.logs import without_secrets
from bot.render import texts
from models.calendar import calendar_from_config
from models.durations import parse_duration
from models.language import match
from models.policies import EscalationSettings, parse_policies
from models.weekly import parse_weekly_at

CONFIG_ENV = "EXECBOT_CONFIG"
DEFAULT_CONFIG_FILE = "config.toml"


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits the file."""


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('expected a duration written like "90s", "15m", "2h" or "1d"')
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        shown = value if len(value) <= 64 else value[:60] + "…"
        raise ValueError(
            f"expected an IANA timezone name such as 'Europe/Berlin', got {shown!r}"
        ) from None
    return value


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True
    )


class WebhookSettings(_Section):
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    url_path: str = "telegram"
    public_url: str = ""
    secret_env: str = "EXECBOT_WEBHOOK_SECRET"
    # Telegram's setWebhook max_connections: deliveries it may have under way at once.
    max_connections: int = Field(default=40, ge=1, le=100)


class TelegramSettings(_Section):
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    token_env: str = "EXECBOT_TOKEN"
    bot_username: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: Duration = timedelta(seconds=30)
    webhook: WebhookSettings = WebhookSettings()

    @field_validator("api_base_url", "file_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value


class ServerSettings(_Section):
    """The operations server (/healthz, /readyz, /metrics) in polling mode; in webhook mode
    these are served on the webhook's address. Port 0: none in polling mode."""

    listen: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/execbot.db"
    auto_migrate: bool = True

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "expected a SQLite URL like 'sqlite:///var/execbot.db' or a PostgreSQL URL "
                f"like 'postgresql+psycopg://user@host/db', got {value!r}"
            )
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(f"not a valid database URL: {value!r}") from None
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value


class PlantSettings(_Section):
    name: str = "Plant"
    timezone: str = "Europe/Berlin"
    language: str = "en"  # for people whose language nothing else names; a catalogue's tag

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        """One of the catalogues' languages, spelled as the catalogue is ("zh-cn" -> "zh-Hans")."""
        spoken = texts.languages()
        found = match(value, spoken)
        if found is None:
            shown = value if len(value) <= 64 else value[:60] + "…"
            raise ValueError(
                f"{shown!r} is not a language execbot speaks ({', '.join(sorted(spoken))})"
            )
        return found


class AccessSettings(_Section):
    admins: tuple[str, ...] = ()

    @field_validator("admins", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(value)
        return value


class NudgeSettings(_Section):
    # How often the bot looks for nudges that are due (the precision of nudge times).
    tick: Duration = timedelta(seconds=15)
    # How often the coming days are planned (also at start-up).
    plan_every: Duration = timedelta(minutes=10)
    # A nudge sent later than this after its time (the bot was down) says it is late.
    late_after: Duration = timedelta(minutes=10)


class DeliverySettings(_Section):
    # Telegram's limits: about 30 messages a second overall, 1 a second per chat.
    # rate = 0 switches the overall limit off (only for a local Bot API server).
    rate: int = Field(default=30, ge=0)
    chat_interval: Duration = timedelta(seconds=1)
    # Seconds of slack added to each 1-second window (and to each chat's interval): sends
    # reach Telegram a few milliseconds earlier or later than planned (a busy machine, the
    # network, a stall), and a window counted by arrival must still hold at most `rate`: 0.15 s
    # keeps 30 in any second with three instances on two busy cores, at 26 messages a second.
    margin: float = Field(default=0.3, ge=0.0, le=1.0)
    # How many requests may be under way at once.
    concurrency: int = Field(default=32, ge=1, le=512)


class InstanceSettings(_Section):
    # Several instances on one PostgreSQL database: one at a time sends the outbox and one
    # polls, each under a lease renewed every third of this time; when that instance dies,
    # another takes over after at most this time (at once after a clean stop).
    sender_lease: Duration = timedelta(seconds=6)
    poller_lease: Duration = timedelta(seconds=6)
    # A periodic pass runs on one instance, under a lease of 3 times its interval but at
    # least this long.
    pass_lease_min: Duration = timedelta(seconds=30)


class InboxSettings(_Section):
    # Updates handled at once (each of another chat; one chat's updates go one at a time).
    workers: int = Field(default=16, ge=1, le=256)
    # Tries before a failing update is kept as dead (see `execbot db status`).
    max_tries: int = Field(default=5, ge=1, le=100)


class ReplySettings(_Section):
    # An answer may be given or changed until the due time (or promised time) plus this.
    grace: Duration = timedelta(hours=1)
    # "Later: end of shift" for people without a shift: this local time today.
    day_end: str = "17:00"
    # How long the bot waits for a photo, a note or a time it asked for.
    question_timeout: Duration = timedelta(hours=2)
    # Where evidence photos and files are downloaded; "" keeps only Telegram's file id.
    evidence_dir: str = ""

    @field_validator("day_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a time of day like '17:00', got {value!r}") from None
        return parsed.strftime("%H:%M")


class ReportSettings(_Section):
    # The daily digest goes to each unit leader at this local time (their time zone); ""
    # means the end of the working day, `[replies] day_end`. A leader on shifts gets a worked
    # day's digest at the end of that day's shift.
    digest_at: str = ""
    # When each leader gets the weekly report (chart and caption), in the leader's time zone:
    # a weekday and a time, "mon 07:00". It covers the seven days before.
    weekly_at: str = "mon 07:00"

    @field_validator("weekly_at")
    @classmethod
    def _weekly_at(cls, value: str) -> str:
        parse_weekly_at(value)
        return value

    @property
    def weekly(self) -> tuple[int, time]:
        """``weekly_at`` as (weekday, 0 = Monday; local time)."""
        return parse_weekly_at(self.weekly_at)

    @field_validator("digest_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if value == "":
            return value
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"expected a time of day like '17:00' or \"\", got {value!r}"
            ) from None
        return parsed.strftime("%H:%M")


def _escalation(value: Any) -> EscalationSettings:
    if isinstance(value, EscalationSettings):
        return value
    if not isinstance(value, dict):
        raise ValueError("expected a table")
    return parse_policies(value)


Escalation = Annotated[EscalationSettings, BeforeValidator(_escalation)]


class InviteSettings(_Section):
    ttl: Duration = timedelta(days=7)


class CalendarSettings(_Section):
    """Which days are worked (rules in ``models.calendar``). Holds the values as plain, checked
    data; ``bot.services.calendar.work_calendar`` adds public holidays and builds the calendar."""

    country: str = ""  # ISO 3166 code for public holidays; "" for none
    subdivision: str = ""  # e.g. "BY" for Bavaria; needs a country
    weekend: tuple[str, ...] = ("sat", "sun")
    days_off: dict[date, str] = Field(default_factory=dict)  # day -> reason
    extra_working_days: tuple[date, ...] = ()

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value:
            check_country(value)
        return value

    @field_validator("subdivision")
    @classmethod
    def _subdivision(cls, value: str, info: ValidationInfo) -> str:
        if not value or "country" not in info.data:  # a bad country has its own message
            return value
        if not info.data["country"]:
            raise ValueError("a subdivision needs a country as well")
        check_subdivision(info.data["country"], value)
        return value

    @field_validator("weekend", "days_off", "extra_working_days", mode="before")
    @classmethod
    def _days(cls, value: Any, info: ValidationInfo) -> Any:
        """Checked by the calendar's own parser (extra working days against the days off)."""
        name = info.field_name or ""
        table = {name: value}
        if name == "extra_working_days" and "days_off" in info.data:
            table["days_off"] = info.data["days_off"]
        try:
            calendar = calendar_from_config(table, {})
        except ValueError as error:
            where, sep, what = str(error).partition(": ")
            raise ValueError(what if sep and where.startswith("calendar") else str(error)) from None
        if name == "weekend":
            return tuple(day.strip().lower() for day in value)
        if name == "days_off":
            return dict(calendar.days_off)
        return tuple(sorted(calendar.extra_working_days))

    def table(self) -> dict[str, Any]:
        """The ``[calendar]`` table as ``models.calendar.calendar_from_config`` reads it."""
        return {
            "weekend": list(self.weekend),
            "days_off": dict(self.days_off),
            "extra_working_days": list(self.extra_working_days),
        }


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(_Section):
    telegram: TelegramSettings = TelegramSettings()
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    plant: PlantSettings = PlantSettings()
    access: AccessSettings = AccessSettings()
    invites: InviteSettings = InviteSettings()
    nudges: NudgeSettings = NudgeSettings()
    delivery: DeliverySettings = DeliverySettings()
    instances: InstanceSettings = InstanceSettings()
    inbox: InboxSettings = InboxSettings()
    replies: ReplySettings = ReplySettings()
    reports: ReportSettings = ReportSettings()
    escalation: Escalation = Field(default_factory=lambda: parse_policies({}))
    calendar: CalendarSettings = CalendarSettings()
    logging: LoggingSettings = LoggingSettings()

    def digest_time(self) -> time:
        """When the daily digest goes, in each leader's local time."""
        return time.fromisoformat(self.reports.digest_at or self.replies.day_end)

    def token(self) -> str | None:
        """The bot token from the environment, or None when it is not set."""
        value = os.environ.get(self.telegram.token_env, "").strip()
        return value or None


def default_path() -> Path | None:
    """``$EXECBOT_CONFIG``, else ``./config.toml`` if it exists, else None (built-in defaults)."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.exists() else None


def load(path: Path | None) -> Settings:
    """Read and validate ``path``; None means the built-in defaults."""
    if path is None:
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse(raw, source=str(path))


def parse(raw: dict[str, Any], *, source: str) -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        # A database URL may hold a password: an error message must not echo it.
        lines = (_describe(source, err) for err in exc.errors())
        raise ConfigError(without_secrets("\n".join(lines))) from None


def _describe(source: str, err: Any) -> str:
    loc = [str(part) for part in err["loc"]]
    section, key = (".".join(loc[:-1]), loc[-1]) if len(loc) > 1 else ("", loc[0] if loc else "")
    where = f"[{section}] {key}" if section else key
    kind = err["type"]
    if kind == "extra_forbidden":
        what = "unknown key (check its spelling against the documented config.toml)"
    elif kind == "literal_error":
        what = f"expected {err['ctx']['expected']}, got {err['input']!r}"
    elif kind == "value_error" and str(err["ctx"]["error"]).startswith(f"{loc[0]}."):
        return f"{source}: {err['ctx']['error']}"  # the message names its own key
    elif kind == "value_error":
        what = str(err["ctx"]["error"])
    elif kind in {"model_type", "dict_type"}:
        what = "expected a table"
    elif kind.endswith("_type") or kind.endswith("_parsing"):
        expected = kind.removesuffix("_type").removesuffix("_parsing").replace("_", " ")
        what = f"expected {_article(expected)}, got {err['input']!r}"
    else:
        what = err["msg"]
    return f"{source}: {where}: {what}"


def _article(noun: str) -> str:
    return {"int": "a whole number", "bool": "true or false", "string": "a string"}.get(
        noun, f"a {noun}"
    )
