"""Absences (from the org file or ``execbot away``)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from models.tables import Absence


def absences_between(session: Session, first_day: date, last_day: date) -> list[Absence]:
    """Every absence that covers at least one day from ``first_day`` to ``last_day``."""
    query = (
        select(Absence)
        .where(col(Absence.start) <= last_day, col(Absence.end) >= first_day)
        .order_by(col(Absence.person_id), col(Absence.start), col(Absence.id))
    )
    return list(session.exec(query).all())


def absences_of(session: Session, person_id: int) -> list[Absence]:
    query = (
        select(Absence)
        .where(Absence.person_id == person_id)
        .order_by(col(Absence.start), col(Absence.id))
    )
    return list(session.exec(query).all())


def absence_by_id(session: Session, absence_id: int) -> Absence | None:
    return session.get(Absence, absence_id)


def add_absence(session: Session, absence: Absence) -> Absence:
    session.add(absence)
    session.flush()
    return absence


def delete_absence(session: Session, absence: Absence) -> None:
    session.delete(absence)
    session.flush()


def absent_on(session: Session, day: date) -> frozenset[int]:
    return frozenset(row.person_id for row in absences_between(session, day, day))
