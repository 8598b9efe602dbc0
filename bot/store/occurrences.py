"""Occurrences (one duty, one person, one day) and their duties: look-ups, locks, saving."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import select_in
from models.tables import Duty, Occurrence


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
