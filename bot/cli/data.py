"""Commands on the stored data: the schema (``db``), the org (``org import``), the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import fail, ready_engine, settings_of
from bot.render.english import counted


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


def db_status(ctx: typer.Context) -> None:
    """Show the database's schema revision against this code's."""
    from bot.store import migrate
    from bot.store.engine import make_engine

    settings = settings_of(ctx)
    engine = make_engine(settings.database.url)
    state = migrate.schema_state(engine)
    typer.echo(f"database: {state.current or 'empty'}; code: {state.head}")
    if state.newer_than_code:
        fail(migrate.newer_schema_message(state))
    if not state.up_to_date:
        typer.echo("run `execbot db upgrade` to bring it up to date")
        return
    typer.echo(inbox_line(engine))


def inbox_line(engine: Any) -> str:
    """The inbox in one line: updates waiting or in hand, and those given up (dead)."""
    from bot.store import inbox
    from bot.store.engine import session_scope

    with session_scope(engine) as session:
        counts = inbox.counts(session)
        dead = inbox.dead_updates(session, limit=1)
    depth = counts.get(inbox.PENDING, 0) + counts.get(inbox.HANDLING, 0)
    line = f"inbox: {depth} waiting, {counts.get(inbox.DEAD, 0)} dead"
    if dead:
        error = " ".join((dead[0].last_error or "?").split())[:120]
        line += f" (latest dead: update {dead[0].update_id}: {error})"
    return line


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
    engine = ready_engine(settings)
    result = import_org(
        engine,
        files,
        utc_now(),
        dry_run=dry_run,
        policies=settings.escalation.policies,
        default_language=settings.plant.language,
    )
    typer.echo(result.report())
    if result.problems:
        raise typer.Exit(1)


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
    engine = ready_engine(settings)
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
    typer.echo(
        f"{counted(len(rows), 'message')} given up (id, kind, to, created, attempts, error):"
    )
    for row in rows:
        to = f"{row.person_key} ({row.person_name})" if row.person_key else f"chat {row.chat_id}"
        created = row.created_at.strftime("%Y-%m-%d %H:%M UTC")
        error = " ".join((row.last_error or "?").split())
        typer.echo(f"{row.id}\t{row.kind}\t{to}\t{created}\t{row.attempts}\t{error}")
