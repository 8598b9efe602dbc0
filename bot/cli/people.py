"""Commands about people: invites, absences."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from bot.cli.common import bot_username, fail, ready_engine, settings_of
from bot.render.english import counted
from models.calendar import AbsenceKind, parse_date


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
    engine = ready_engine(settings)
    username = bot_username(settings, engine)
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

    span = away_span(first_day, last_day, listing=list_them or cancel is not None)
    if list_them and cancel is not None:
        fail("use either --list or --cancel, not both")
    settings = settings_of(ctx)
    engine = ready_engine(settings)
    try:
        if list_them:
            who, absences = list_absences(engine, person)
            typer.echo(f"{who.key} ({who.name}): {counted(len(absences), 'absence')}")
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


def away_span(first: str | None, last: str | None, *, listing: bool) -> tuple[date, date] | None:
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
