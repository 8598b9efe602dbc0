"""The ``execbot`` command line (Typer: typed options, help for free, the SQLModel family's
choice). Each command loads the settings, sets up logging and calls one service."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from bot import config, logs
from bot.config import ConfigError, Settings
from models.calendar import AbsenceKind, parse_date

app = typer.Typer(
    name="execbot",
    help="execbot: daily duties pushed to each person, replies stored, silence escalated.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(
    help="The org: units, people, duties, shifts, absences.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")


@dataclass
class Options:
    config_path: Path | None
    log_level: str | None


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"execbot: {logs.without_secrets(message)}", err=True)
    raise typer.Exit(code)


@app.callback()
def main_options(
    ctx: typer.Context,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $EXECBOT_CONFIG, else ./config.toml, else built-ins).",
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (overrides config).")
    ] = None,
) -> None:
    ctx.obj = Options(config_file, log_level)


def settings_of(ctx: typer.Context) -> Settings:
    """Load and validate the settings and set up logging, or stop with the reason."""
    options: Options = ctx.obj
    path = options.config_path or config.default_path()
    try:
        settings = config.load(path)
    except ConfigError as exc:
        fail(f"configuration error\n{exc}")
    level = (options.log_level or settings.logging.level).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        fail(f"--log-level: expected DEBUG, INFO, WARNING or ERROR, got {options.log_level!r}")
    logs.setup(level, settings.logging.format, secrets=[settings.token() or ""])
    return settings


@app.command()
def run(ctx: typer.Context) -> None:
    """Run the bot (polling or webhook, as configured) until stopped."""
    from bot import app as bot_app
    from bot.runtime import Runtime, clock_from_env
    from bot.store.engine import make_engine

    settings = settings_of(ctx)
    token = settings.token()
    if token is None:
        fail(missing_token_message(settings))
    try:
        clock = clock_from_env()
    except ValueError as exc:
        fail(str(exc))
    runtime = Runtime(settings, make_engine(settings.database.url), clock)
    try:
        bot_app.run(runtime, token)
    except bot_app.StartupError as exc:
        fail(str(exc))


def missing_token_message(settings: Settings) -> str:
    env = settings.telegram.token_env
    return (
        f"no bot token: the environment variable {env} is not set.\n"
        "  execbot needs the token of your Telegram bot. Create a bot with @BotFather in "
        "Telegram, then:\n"
        f"    export {env}='123456789:AA...your-token...'\n"
        "    execbot run\n"
        "  To try execbot without Telegram, run the local Bot API sandbox (`execbot sandbox`)\n"
        "  and point [telegram] api_base_url and file_base_url at it (see README)."
    )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date (creates the database if needed)."""
    from bot.store import migrate
    from bot.store.engine import make_engine, redact_url

    settings = settings_of(ctx)
    engine = make_engine(settings.database.url)
    before = migrate.schema_state(engine)
    try:
        migrate.upgrade(engine)
    except migrate.SchemaTooNew as exc:
        fail(str(exc))
    after = migrate.current_revision(engine)
    url = redact_url(settings.database.url)
    if before.current == after:
        typer.echo(f"{url}: schema {after}, already up to date")
    else:
        typer.echo(f"{url}: schema {before.current or 'empty'} -> {after}")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the database's schema revision against this code's."""
    from bot.store import migrate
    from bot.store.engine import make_engine

    settings = settings_of(ctx)
    state = migrate.schema_state(make_engine(settings.database.url))
    typer.echo(f"database: {state.current or 'empty'}; code: {state.head}")
    if state.newer_than_code:
        fail(migrate.newer_schema_message(state))
    if not state.up_to_date:
        typer.echo("run `execbot db upgrade` to bring it up to date")


@org_app.command("import")
def org_import(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Org TOML files and/or people CSV files.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show changes, write nothing.")
    ] = False,
) -> None:
    """Import the org (units, people, duties, shifts, absences) from TOML and CSV files,
    idempotently."""
    from bot.runtime import utc_now
    from bot.services.org_import import import_org

    settings = settings_of(ctx)
    engine = _ready_engine(settings)
    result = import_org(
        engine, files, utc_now(), dry_run=dry_run, policies=settings.escalation.policies
    )
    typer.echo(result.report())
    if result.problems:
        raise typer.Exit(1)


@app.command()
def invite(
    ctx: typer.Context,
    keys: Annotated[list[str] | None, typer.Argument(help="Person keys to invite.")] = None,
    all_pending: Annotated[
        bool, typer.Option("--all-pending", help="Everyone active who has not joined yet.")
    ] = False,
) -> None:
    """Print a single-use, expiring https://t.me/<bot>?start=<code> link per person."""
    from bot.runtime import utc_now
    from bot.services.onboarding import InviteError, issue_invites

    settings = settings_of(ctx)
    if not keys and not all_pending:
        fail("name one or more person keys, or use --all-pending")
    engine = _ready_engine(settings)
    username = _bot_username(settings, engine)
    try:
        issued = issue_invites(
            engine,
            keys or [],
            all_pending=all_pending,
            bot_username=username,
            ttl=settings.invites.ttl,
            now=utc_now(),
        )
    except InviteError as exc:
        fail(f"no invites issued:\n{exc}", code=1)
    if not issued:
        typer.echo("nobody is waiting for an invite")
    for item in issued:
        until = item.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        typer.echo(f"{item.person_key}\t{item.person_name}\t{item.link}\t(valid until {until})")


@app.command()
def away(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(metavar="PERSON", help="The person's key.")],
    first_day: Annotated[
        str | None, typer.Argument(metavar="FROM", help="First day away, e.g. 2026-12-21.")
    ] = None,
    last_day: Annotated[
        str | None, typer.Argument(metavar="TO", help="Last day away (included).")
    ] = None,
    kind: Annotated[AbsenceKind, typer.Option(help="Why the person is away.")] = AbsenceKind.LEAVE,
    note: Annotated[str, typer.Option(help="A short note for leaders and admins.")] = "",
    list_them: Annotated[
        bool, typer.Option("--list", help="Show the person's absences, with their ids.")
    ] = False,
    cancel: Annotated[
        int | None,
        typer.Option("--cancel", metavar="ID", help="Remove an absence recorded with `away`."),
    ] = None,
) -> None:
    """Record that a person is away from FROM to TO (no nudges then); or --list, --cancel ID."""
    from bot.runtime import utc_now
    from bot.services.absences import AbsenceError, add_absence, cancel_absence, list_absences

    span = _away_span(first_day, last_day, listing=list_them or cancel is not None)
    if list_them and cancel is not None:
        fail("use either --list or --cancel, not both")
    settings = settings_of(ctx)
    engine = _ready_engine(settings)
    try:
        if list_them:
            who, absences = list_absences(engine, person)
            typer.echo(f"{who.key} ({who.name}): {len(absences)} absence(s)")
            for item in absences:
                typer.echo(f"  {item.id}\t{item.source}\t{item.describe()}")
        elif cancel is not None:
            who, record = cancel_absence(engine, person, cancel, utc_now())
            typer.echo(f"cancelled absence {record.id} of {who.key}: {record.describe()}")
        else:
            assert span is not None
            who, record = add_absence(engine, person, *span, kind, note, utc_now())
            typer.echo(
                f"recorded absence {record.id}: {who.key} ({who.name}) away {record.describe()}"
            )
    except AbsenceError as exc:
        fail(str(exc), code=1)


def _away_span(first: str | None, last: str | None, *, listing: bool) -> tuple[date, date] | None:
    """FROM and TO of ``execbot away`` as dates; None for --list and --cancel, which take none."""
    if listing:
        if first is not None:
            fail("--list and --cancel take no dates")
        return None
    if first is None or last is None:
        fail("give FROM and TO, the first and last day away (e.g. 2026-12-21 2026-12-23)")
    try:
        return parse_date(first, "FROM"), parse_date(last, "TO")
    except ValueError as exc:
        fail(str(exc))


@app.command()
def outbox(
    ctx: typer.Context,
    dead: Annotated[
        bool, typer.Option("--dead", help="List the messages given up, newest first.")
    ] = False,
) -> None:
    """Show how many messages the outbox holds per state; --dead lists those given up."""
    from bot.store.engine import session_scope
    from bot.store.outbox import dead_messages, outbox_counts
    from models.status import OutboxState

    settings = settings_of(ctx)
    engine = _ready_engine(settings)
    with session_scope(engine) as session:
        counts = outbox_counts(session)
        rows = dead_messages(session) if dead else []
    if not dead:
        states = tuple(OutboxState)
        order = [*states, *sorted(set(counts) - set(states))]
        typer.echo("  ".join(f"{state}: {counts.get(state, 0)}" for state in order))
        return
    if not rows:
        typer.echo("no message has been given up")
        return
    typer.echo(f"{len(rows)} message(s) given up (id, kind, to, created, attempts, error):")
    for row in rows:
        to = f"{row.person_key} ({row.person_name})" if row.person_key else f"chat {row.chat_id}"
        created = row.created_at.strftime("%Y-%m-%d %H:%M UTC")
        error = " ".join((row.last_error or "?").split())
        typer.echo(f"{row.id}\t{row.kind}\t{to}\t{created}\t{row.attempts}\t{error}")


def need_sandbox(command: str) -> None:
    """Fail plainly without the sandbox (its own distribution; ``execbot run`` never needs it)."""
    try:
        import sandbox.server  # noqa: F401
    except ModuleNotFoundError as exc:
        fail(
            f"`execbot {command}` needs the sandbox, which is not installed ({exc}); "
            "from the execbot repository: pip install ./sandbox (make install does it)"
        )


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
    token: Annotated[
        list[str] | None, typer.Option(help="Bot token(s) to accept (default: the test token).")
    ] = None,
    no_limits: Annotated[
        bool, typer.Option("--no-limits", help="Switch Telegram's rate limits off.")
    ] = False,
    latency: Annotated[
        str,
        typer.Option(help="Seconds each Bot API call waits, MIN-MAX (e.g. 0.1-0.3; 0: none)."),
    ] = "0",
) -> None:
    """Run the local Bot API sandbox (a strict stand-in for Telegram) until stopped."""
    need_sandbox("sandbox")
    from sandbox.server import DEFAULT_TOKEN, parse_latency, serve

    try:
        span = parse_latency(latency)
    except ValueError as exc:
        fail(f"--latency: expected MIN-MAX in seconds such as 0.1-0.3 ({exc})")
    logs.setup("INFO")
    serve("127.0.0.1", port, tuple(token or [DEFAULT_TOKEN]), not no_limits, span)


@app.command()
def demo(
    port: Annotated[
        int | None, typer.Option(help="Sandbox and chat page port [default: 8080, else free].")
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder for the demo's files [default: temporary, removed]."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    run_for: Annotated[
        float | None,
        typer.Option(
            "--for", min=0, metavar="SECONDS", help="Stop by itself this long after the bot is up."
        ),
    ] = None,
) -> None:
    """The whole loop in a browser: local Telegram, a demo plant, the bot; Ctrl+C stops it."""
    need_sandbox("demo")
    from bot.demo import run as run_demo

    logs.setup("WARNING")
    raise typer.Exit(run_demo(port, directory, host, run_for))


def _ready_engine(settings: Settings):  # type: ignore[no-untyped-def]
    """The engine, after refusing a too-new schema and applying pending migrations."""
    from bot import app as bot_app
    from bot.runtime import Runtime
    from bot.store.engine import make_engine

    runtime = Runtime(settings, make_engine(settings.database.url))
    try:
        bot_app.prepare_database(runtime)
    except bot_app.StartupError as exc:
        fail(str(exc))
    return runtime.engine


def _bot_username(settings: Settings, engine) -> str:  # type: ignore[no-untyped-def]
    from bot.store.engine import session_scope
    from bot.store.settings import BOT_USERNAME_SETTING, get_setting

    if settings.telegram.bot_username:
        return settings.telegram.bot_username
    with session_scope(engine) as session:
        known = get_setting(session, BOT_USERNAME_SETTING)
    if known:
        return known
    fail(
        "the bot's username is not known yet: start `execbot run` once (it asks Telegram), "
        "or set [telegram] bot_username in the config"
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # no raw traceback (it may hold a secret): one line, details logged
        logging.getLogger("execbot").debug("unexpected error", exc_info=True)
        reason = (str(exc).strip().splitlines() or [""])[0]
        message = f"unexpected error: {type(exc).__name__}: {reason} (--log-level DEBUG: where)"
        print(f"execbot: {logs.without_secrets(message)}", file=sys.stderr)
        sys.exit(1)
