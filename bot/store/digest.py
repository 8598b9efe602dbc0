"""What the daily digest stores: which leader's digest of which day is done (a ``Report``
row, kind ``digest``, subject ``person:<id>``, period the leader's local day), so a restart
or a second pass sends nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from models.tables import OrgSection, Report

KIND = "digest"


def subject(person_id: int) -> str:
    return f"person:{person_id}"


def done(session: Session, wanted: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of the (subject, period) pairs have a digest recorded already."""
    if not wanted:
        return set()
    periods = sorted({period for _, period in wanted})
    subjects = {name for name, _ in wanted}
    query = select(Report.subject, Report.period).where(
        Report.kind == KIND, col(Report.period).in_(periods)
    )
    return {(s, p) for s, p in session.exec(query).all() if s in subjects}


def record(session: Session, subjects: Sequence[str], day: date, now: datetime) -> None:
    """Record these digests of ``day`` as done (in one batch; none of them recorded yet)."""
    period = day.isoformat()
    session.add_all(
        Report(kind=KIND, subject=name, period=period, created_at=now) for name in subjects
    )
    session.flush()


def shifts(session: Session) -> dict[str, Any]:
    """The stored ``[shifts]`` table of the org file (empty when none)."""
    section = session.get(OrgSection, "shifts")
    return dict(section.data) if section else {}
