"""``execbot doctor``: what this set-up would run with, and what would stop it: the mode, the
secrets (whether they are set and well formed, never their values), where the server listens,
the database and its schema, and the inbox and outbox. It changes nothing and calls no Bot
API; it exits 1 when something needs looking at (a missing secret, a catalogue with problems
(``bot.render.check``), an unreachable database, updates or messages given up)."""

from __future__ import annotations

import typer

from bot.cli.common import settings_of
from bot.config import Settings
from bot.render.english import counted

DEAD_SHOWN = 5  # the newest dead updates listed


def doctor(ctx: typer.Context) -> None:
    """Check the set-up without changing anything: mode, secrets (present, never shown),
    server address, the text catalogues, database, schema, inbox and outbox."""
    settings = settings_of(ctx)
    problems = 0
    checks = [*_settings_lines(settings), *_catalogue_lines(), *_database_lines(settings)]
    for ok, line in checks:
        typer.echo(("  ok  " if ok else "  !!  ") + line)
        problems += not ok
    if problems:
        typer.echo(f"{counted(problems, 'thing')} to look at (marked !!)")
        raise typer.Exit(1)


def _settings_lines(settings: Settings) -> list[tuple[bool, str]]:
    from bot import ops
    from bot.delivery.webhook import secret_problem

    tg = settings.telegram
    lines: list[tuple[bool, str]] = []
    if settings.token():
        lines.append((True, f"bot token: set in ${tg.token_env}"))
    else:
        lines.append((False, f"bot token: ${tg.token_env} is not set"))
    try:
        address = ops.listen_address(settings)
    except ops.ServerError as exc:
        lines.append((False, f"server: {exc}"))
        address = None
    if tg.mode == "polling":
        lines.append((True, "mode: polling"))
        where = f"{address[0]}:{address[1]}" if address else "off ([server] port = 0)"
        lines.append((True, f"/healthz, /readyz, /metrics: {where}"))
        return lines
    hook = tg.webhook
    lines.append((True, "mode: webhook"))
    problem = secret_problem(hook)
    if problem is None:
        lines.append((True, f"webhook secret: set in ${hook.secret_env}"))
    else:
        lines.append((False, f"webhook secret: {problem}"))
    if hook.public_url:
        lines.append((True, f"public URL: {hook.public_url}"))
    else:
        lines.append((False, "public URL: [telegram.webhook] public_url is empty"))
    if address is not None:
        path = hook.url_path.strip("/")
        lines.append(
            (
                True,
                f"listening on: {address[0]}:{address[1]} (/{path}, /healthz, /readyz, /metrics)",
            )
        )
    return lines


PROBLEMS_SHOWN = 3  # of a catalogue's problems, on its one line


def _catalogue_lines() -> list[tuple[bool, str]]:
    """One line per language: its catalogue complete, or its first problems."""
    from bot.render import check, texts

    lines: list[tuple[bool, str]] = []
    for lang in texts.languages():
        found = check.problems(lang)
        if not found:
            lines.append((True, f"texts {lang}: complete"))
            continue
        shown = "; ".join(found[:PROBLEMS_SHOWN])
        more = f"; … {len(found) - PROBLEMS_SHOWN} more" if len(found) > PROBLEMS_SHOWN else ""
        lines.append((False, f"texts {lang}: {counted(len(found), 'problem')}: {shown}{more}"))
    return lines


def _database_lines(settings: Settings) -> list[tuple[bool, str]]:
    from sqlalchemy.exc import SQLAlchemyError

    from bot import app as bot_app
    from bot.store import inbox, migrate, outbox
    from bot.store.engine import make_engine, redact_url, session_scope

    url = redact_url(settings.database.url)
    engine = make_engine(settings.database.url)
    try:
        try:
            state = migrate.schema_state(engine)
        except SQLAlchemyError as exc:
            return [(False, bot_app.database_unreachable(settings.database.url, exc))]
        lines = [(True, f"database: {url}")]
        if state.newer_than_code:
            return [*lines, (False, f"schema: {migrate.newer_schema_message(state)}")]
        if not state.up_to_date:
            auto = settings.database.auto_migrate
            how = "`execbot run` upgrades it" if auto else "run `execbot db upgrade`"
            lines.append((auto, f"schema: {state.current or 'none'}, code {state.head}: {how}"))
            return lines
        lines.append((True, f"schema: {state.current} (current)"))
        with session_scope(engine) as session:
            updates = inbox.counts(session)
            dead = inbox.dead_updates(session, limit=DEAD_SHOWN)
            messages = outbox.outbox_counts(session)
        lines.append((not dead, "inbox: " + _counts(updates, inbox.PENDING, inbox.DEAD)))
        for item in dead:
            lines.append(
                (
                    False,
                    f"  dead update {item.update_id} (chat {item.chat_key}, "
                    f"{item.attempts} tries): {item.last_error or 'no error recorded'}",
                )
            )
        dead_messages = messages.get("dead", 0)
        lines.append((dead_messages == 0, "outbox: " + _counts(messages, "pending", "dead")))
        if dead_messages:
            lines.append((False, "  `execbot outbox --dead` lists the messages given up"))
        return lines
    finally:
        engine.dispose()


def _counts(counts: dict[str, int], *first: str) -> str:
    order = [*first, *sorted(set(counts) - set(first))]
    return ", ".join(f"{state} {counts.get(state, 0)}" for state in order)
