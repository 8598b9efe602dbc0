"""The demo plant on disk and in the database: its files (config, org file, a fresh SQLite
file), its members and their onboarding. ``bot.demo`` runs the whole demo around this."""

from __future__ import annotations

import json
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import config
from bot.config import ConfigError, Settings
from bot.services.onboarding import IssuedInvite
from models.org_spec import OrgSpec, PersonSpec
from sandbox.client import AsyncSandboxClient
from sandbox.state import DEFAULT_USERNAME

TEMPLATE = Path(__file__).resolve().parent / "demo_plant.toml"
PLANT_TIMEZONE = "Europe/Berlin"
PLANT_NAME = "Riverside Works"
ADMINS = ("e.hartmann",)
NEVER_JOINED = ("s.lang",)
DEFAULT_PORT = 8080
FIRST_PERSON_ID = 7001
LEAD_TIME = timedelta(minutes=1)
READY_TIMEOUT = 60.0
TOKEN_ENV = "EXECBOT_TOKEN"

# Seconds and minutes instead of hours, so reminders and every level show within minutes.
# Written only when this execbot's config knows [escalation] (see escalation_section).
ESCALATION = """
[escalation]
# Demo policy: seconds and minutes instead of hours, so that every reminder and level comes
# within a few minutes of the due times (06:04-06:05): team leader, workshop head, plant manager.
default_policy = "demo"
group_window = "0s"
quiet_hours = ""

[escalation.policies.demo]
reminders = ["-1m", "0m"]
levels = [
  { after = "30s", notify = "next" },
  { after = "1m", notify = "next" },
  { after = "2m", notify = "post:plant manager" },
]
ack_timeout = "1m"
"""
ESCALATION_PENDING = """
# [escalation]: not written. This execbot's config has no [escalation] section yet; once the
# escalation engine lands, `execbot demo` adds a demo policy here (minutes, not hours).
"""


class DemoError(Exception):
    """The demo cannot start; the message says why."""


@dataclass(frozen=True, slots=True)
class DemoFiles:
    root: Path
    config: Path
    org: Path
    database: Path
    bot_log: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"


@dataclass(frozen=True, slots=True)
class Member:
    """A person of the demo plant who has a sandbox account."""

    key: str
    name: str
    sandbox_id: int
    bio: str


# --- pure parts ------------------------------------------------------------------------------


def plant_today(tz: str = PLANT_TIMEZONE, now: datetime | None = None) -> date:
    return (now or datetime.now(ZoneInfo(tz))).astimezone(ZoneInfo(tz)).date()


def render_org(template: str, today: date) -> str:
    """The demo org file: the template with ``{{today}}`` replaced by today's date."""
    return template.replace("{{today}}", today.isoformat())


def first_nudge(spec: OrgSpec) -> time:
    times = [time.fromisoformat(d.nudge_time) for d in spec.duties or [] if d.nudge_time]
    if not times:
        raise DemoError("the demo plant has no duty with a nudge time")
    return min(times)


def clock_start(today: date, nudge: time, tz: str = PLANT_TIMEZONE) -> datetime:
    """The virtual clock's start: ``LEAD_TIME`` before the first nudge, today, plant time."""
    return datetime.combine(today, nudge, ZoneInfo(tz)) - LEAD_TIME


def config_text(sandbox_url: str, database_url: str, with_escalation: bool) -> str:
    """The demo's config.toml (every key a real one; see the repository's config.toml)."""
    return (
        "# Written by `execbot demo`: the sandbox stands in for Telegram.\n"
        "[telegram]\n"
        f'api_base_url = "{sandbox_url}/bot"\n'
        f'file_base_url = "{sandbox_url}/file/bot"\n'
        f'bot_username = "{DEFAULT_USERNAME}"\n'
        'poll_timeout = "10s"\n\n'
        "[database]\n"
        f'url = "{database_url}"\n\n'
        "[plant]\n"
        f'name = "{PLANT_NAME}"\n'
        f'timezone = "{PLANT_TIMEZONE}"\n\n'
        "[access]\n"
        f"admins = {json.dumps(list(ADMINS))}\n\n"
        "[nudges]\n"
        "# Fast ticks: a nudge goes out within a second of its time.\n"
        'tick = "1s"\n'
        'plan_every = "30s"\n' + (ESCALATION if with_escalation else ESCALATION_PENDING)
    )


def escalation_known() -> bool:
    """Whether this execbot's config accepts an [escalation] section."""
    return "escalation" in Settings.model_fields


def bio_of(person: PersonSpec, unit_names: dict[str, str], away: set[str]) -> str:
    post = person.post[:1].upper() + person.post[1:]
    bio = f"{post}, {unit_names.get(person.unit, person.unit)}"
    return bio + " (away today)" if person.key in away else bio


def members_of(spec: OrgSpec, today: date) -> list[Member]:
    """Everyone active who gets a sandbox account (all but ``NEVER_JOINED``), with ids."""
    unit_names = {unit.key: unit.name for unit in spec.units or []}
    away = {a.person for a in spec.absences or [] if a.start <= today <= a.end}
    people = [p for p in spec.people or [] if p.active and p.key not in NEVER_JOINED]
    return [
        Member(p.key, p.name, FIRST_PERSON_ID + index, bio_of(p, unit_names, away))
        for index, p in enumerate(people)
    ]


def split_name(name: str) -> tuple[str, str | None]:
    first, _, last = name.partition(" ")
    return first, last or None


# --- the folder, the database and onboarding -------------------------------------------------


def prepare_folder(directory: Path | None) -> tuple[Path, bool]:
    """(the folder, whether it is a temporary one to remove at exit)."""
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="execbot-demo-")), True
    directory = directory.expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory, False


def write_files(root: Path, sandbox_url: str, today: date) -> DemoFiles:
    """Config, org file and a fresh database path (an old demo database is removed)."""
    if not TEMPLATE.is_file():
        raise DemoError(f"the demo plant template is missing: {TEMPLATE}")
    files = DemoFiles(
        root,
        root / "demo-config.toml",
        root / "demo-plant.toml",
        root / "demo.db",
        root / "demo-bot.log",
    )
    for stale in (files.database, root / "demo.db-wal", root / "demo.db-shm"):
        stale.unlink(missing_ok=True)
    files.org.write_text(render_org(TEMPLATE.read_text(encoding="utf-8"), today), "utf-8")
    files.config.write_text(
        config_text(sandbox_url, files.database_url, escalation_known()), "utf-8"
    )
    return files


def load_settings(files: DemoFiles) -> Settings:
    """The demo settings; a demo escalation policy the config refuses is dropped, with a note."""
    try:
        return config.load(files.config)
    except ConfigError as exc:
        if not escalation_known():
            raise DemoError(f"the demo config is invalid:\n{exc}") from None
        print(f"  note: the demo escalation policy was not accepted, left out:\n{exc}")
    url = tomllib.loads(files.config.read_text("utf-8"))["telegram"]["api_base_url"]
    sandbox_url = url.removesuffix("/bot")
    files.config.write_text(config_text(sandbox_url, files.database_url, False), "utf-8")
    return config.load(files.config)


def import_and_invite(settings: Settings, files: DemoFiles) -> tuple[OrgSpec, list[IssuedInvite]]:
    """Migrate the fresh database, import the demo plant and issue an invite to everyone."""
    from bot import app as bot_app
    from bot.runtime import Runtime, utc_now
    from bot.services.onboarding import issue_invites
    from bot.services.org_import import import_org, read_file
    from bot.store.engine import make_engine

    engine = make_engine(settings.database.url)
    try:
        try:
            bot_app.prepare_database(Runtime(settings, engine))
        except bot_app.StartupError as exc:
            raise DemoError(str(exc)) from None
        result = import_org(
            engine,
            [files.org],
            utc_now(),
            dry_run=False,
            default_language=settings.plant.language,
        )
        if result.problems:
            raise DemoError(f"the demo plant was not imported:\n{result.report()}")
        invites = issue_invites(
            engine,
            [],
            all_pending=True,
            bot_username=settings.telegram.bot_username or DEFAULT_USERNAME,
            ttl=settings.invites.ttl,
            now=utc_now(),
        )
    finally:
        engine.dispose()
    return read_file(files.org), invites


async def onboard(client: AsyncSandboxClient, members: list[Member], links: dict[str, str]) -> None:
    """Create each member's sandbox account and open their invite link (``/start <code>``)."""
    for member in members:
        first, last = split_name(member.name)
        await client.create_person(first, id=member.sandbox_id, last_name=last, bio=member.bio)
        code = links[member.key].split("?start=", 1)[1]
        await client.send_command(member.sandbox_id, "start", code)
