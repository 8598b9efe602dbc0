"""The leader's board, read at scale: today's occurrences of a set of units counted by the
database, and only the few items the board shows.

An occurrence belongs to the unit its person is in now (``person.unit_id``). Both reads go
from the units' people (index ``ix_person_unit_id``) to their occurrences of the day (index
``ix_occurrence_person_day``), so they cost what the subtree holds, not what the plant
holds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, case, false, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.store.chunks import select_in
from models.tables import Duty, Occurrence, Person

TallyRow = tuple[int, str, bool, bool, int]  # unit id, status, past due, owned, count


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One occurrence as the board shows it."""

    occurrence_id: int
    person_id: int
    unit_id: int
    status: str
    due_at: datetime
    promised_at: datetime | None
    owner_id: int | None
    number: int
    title: str
    person_name: str


def _past_due(now: datetime) -> ColumnElement[bool]:
    return func.coalesce(col(Occurrence.promised_at), col(Occurrence.due_at)) < now


def _of_the_day(day: date, unit_ids: Sequence[int]) -> ColumnElement[bool]:
    """The day's occurrences of the people of ``unit_ids``. Put as ``person_id IN (people of
    the units)``, not as a join condition on the units, so that SQLite (which keeps no
    statistics) reads them by person and day rather than the whole plant's day by ``day``."""
    people = sa_select(col(Person.id)).where(col(Person.unit_id).in_(list(unit_ids)))
    return and_(col(Occurrence.person_id).in_(people), col(Occurrence.day) == day)


def tallies(
    session: Session,
    day: date,
    unit_ids: Sequence[int] | None,
    statuses: Collection[str],
    live: Collection[str],
    now: datetime,
) -> list[TallyRow]:
    """(unit id, status, past due, owned, count) for the day's occurrences of the people of
    ``unit_ids`` (None: of every unit, as for an admin's whole plant) with one of
    ``statuses``. For ``live`` statuses only (false for the others, so that the finished
    items of a unit make one row per status): past due, the promised instant, else the due
    one, is before ``now``; owned (of those past due), somebody took it."""
    is_live = col(Occurrence.status).in_(list(live))
    past = case((is_live, _past_due(now)), else_=false()).label("past")
    owned = case(
        (and_(is_live, _past_due(now)), col(Occurrence.acked_by).is_not(None)), else_=false()
    ).label("owned")

    def query(chunk: Sequence[int] | None) -> Select[int, str, bool, bool, int]:
        day_of = col(Occurrence.day) == day if chunk is None else _of_the_day(day, chunk)
        return (
            sa_select(col(Person.unit_id), col(Occurrence.status), past, owned, func.count())
            .join(Person, col(Person.id) == col(Occurrence.person_id))
            .where(day_of, col(Occurrence.status).in_(list(statuses)))
            .group_by(col(Person.unit_id), col(Occurrence.status), past, owned)
        )

    rows = (
        [tuple(row) for row in session.execute(query(None)).all()]
        if unit_ids is None
        else select_in(session, unit_ids, query)
    )
    return [
        (int(unit), str(status), bool(is_past), bool(is_owned), int(count))
        for unit, status, is_past, is_owned, count in rows
    ]


def items(
    session: Session,
    day: date,
    unit_ids: Sequence[int],
    statuses: Collection[str],
    now: datetime,
    *,
    past_due: bool,
    unowned: bool,
    limit: int,
) -> list[ItemRow]:
    """The first ``limit`` of the day's occurrences of the people of ``unit_ids`` with one of
    ``statuses`` (past due only if ``past_due``, taken by nobody only if ``unowned``), in the
    order of ``unit_ids`` then occurrence id. ``unit_ids`` is short (the units the board
    shows items of), so it is bound in one statement."""
    if not unit_ids or limit <= 0:
        return []
    rank = case({unit: index for index, unit in enumerate(unit_ids)}, value=col(Person.unit_id))
    columns = (
        col(Occurrence.id), col(Occurrence.person_id), col(Person.unit_id),
        col(Occurrence.status), col(Occurrence.due_at), col(Occurrence.promised_at),
        col(Occurrence.acked_by), col(Occurrence.number), col(Duty.title), col(Person.name),
    )  # fmt: skip
    query = (
        sa_select(*columns)
        .join(Person, col(Person.id) == col(Occurrence.person_id))
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(_of_the_day(day, unit_ids), col(Occurrence.status).in_(list(statuses)))
        .order_by(rank, col(Occurrence.id))
        .limit(limit)
    )
    if past_due:
        query = query.where(_past_due(now))
    if unowned:
        query = query.where(col(Occurrence.acked_by).is_(None))
    return [ItemRow(*row) for row in session.execute(query).all()]
