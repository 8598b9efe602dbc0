"""Occurrences (one duty, one person, one day) and their duties: look-ups, locks, saving."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import select_in
from models.tables import Duty, Occurrence, Person


def occurrence_with_duty(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    row = session.exec(
        select(Occurrence, Duty)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(col(Occurrence.id) == occurrence_id)
    ).first()
    return (row[0], row[1]) if row else None


def occurrence_by_number(session: Session, person_id: int, day: date, number: int) -> int | None:
    query = sa_select(col(Occurrence.id)).where(
        col(Occurrence.person_id) == person_id,
        col(Occurrence.day) == day,
        col(Occurrence.number) == number,
        col(Occurrence.status) != "cancelled",
    )
    found = session.execute(query).scalar()
    return int(found) if found is not None else None


def lock_occurrence(session: Session, occurrence_id: int) -> None:
    """Serialise answers to one occurrence (PostgreSQL row lock; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa_select(col(Occurrence.id))
            .where(col(Occurrence.id) == occurrence_id)
            .with_for_update()
        )


def occurrences_in_message(session: Session, outbox_id: int) -> list[tuple[Occurrence, Duty]]:
    query = (
        select(Occurrence, Duty)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(col(Occurrence.nudge_outbox_id) == outbox_id)
        .order_by(col(Occurrence.number))
    )
    return [(occ, duty) for occ, duty in session.exec(query).all()]


@dataclass(frozen=True, slots=True)
class MessageLine:
    """An occurrence listed in a nudge message, as its re-rendering needs it."""

    id: int
    number: int
    title: str
    details: str
    due_at: datetime
    status: str
    nudge_at: datetime


def message_lines(session: Session, outbox_id: int) -> list[MessageLine]:
    """The occurrences a nudge message lists, by number: plain rows, not ORM objects (the
    columns its rendering reads)."""
    query = (
        sa_select(
            col(Occurrence.id), col(Occurrence.number), col(Duty.title), col(Duty.details),
            col(Occurrence.due_at), col(Occurrence.status), col(Occurrence.nudge_at),
        )
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(col(Occurrence.nudge_outbox_id) == outbox_id)
        .order_by(col(Occurrence.number))
    )  # fmt: skip
    return [MessageLine(*row) for row in session.execute(query).all()]


def occurrence_of(session: Session, duty_id: int, person_id: int, day: date) -> Occurrence | None:
    query = select(Occurrence).where(
        Occurrence.duty_id == duty_id, Occurrence.person_id == person_id, Occurrence.day == day
    )
    return session.exec(query).first()


def highest_number(session: Session, person_id: int, day: date) -> int:
    query = select(func.max(Occurrence.number)).where(
        Occurrence.person_id == person_id, Occurrence.day == day
    )
    return int(session.exec(query).one() or 0)


def occurrences_by_ids(session: Session, ids: Sequence[int]) -> list[Occurrence]:
    return select_in(
        session, ids, lambda chunk: select(Occurrence).where(col(Occurrence.id).in_(chunk))
    )


def duties_by_ids(session: Session, ids: Sequence[int]) -> list[Duty]:
    return select_in(session, ids, lambda chunk: select(Duty).where(col(Duty.id).in_(chunk)))


def loaded_with_duty(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    """The occurrence and its duty by primary key: read from the session when loaded already
    (``occurrences_by_ids`` and ``duties_by_ids`` prefetch), else one query each."""
    occ = session.get(Occurrence, occurrence_id)
    duty = session.get(Duty, occ.duty_id) if occ is not None else None
    return (occ, duty) if occ is not None and duty is not None else None


def duty_by_id(session: Session, duty_id: int) -> Duty | None:
    return session.get(Duty, duty_id)


def save(session: Session, occurrence: Occurrence) -> None:
    """Store the changes made to an occurrence (its state, its climb, a reassignment)."""
    session.add(occurrence)


def board_rows(session: Session, day: date) -> list[tuple[Occurrence, Duty, Person]]:
    query = (
        select(Occurrence, Duty, Person)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .join(Person, col(Person.id) == col(Occurrence.person_id))
        .where(col(Occurrence.day) == day, col(Occurrence.status) != "cancelled")
    )
    return [(o, d, p) for o, d, p in session.exec(query).all()]
