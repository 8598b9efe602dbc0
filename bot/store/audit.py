"""Audit events, and reports told once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from models.tables import AuditEvent, Person, Report

SUBJECT_LIMIT = 80  # AuditEvent.subject's column
_INSERT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


def record(
    session: Session,
    kind: str,
    now: datetime,
    *,
    subject: str = "",
    actor: Person | None = None,
    actor_telegram_id: int | None = None,
    data: dict[str, Any] | None = None,
    at_once: bool = False,
) -> None:
    """One audit event. A subject longer than its column (a long file path) keeps its end,
    the most telling part, behind "…"; callers put the whole value in ``data``. Stored with
    the session's next flush (a pass's many events go in batches), or ``at_once`` with a
    plain INSERT (one answer's single event, where the unit of work costs more than the row).
    """
    if len(subject) > SUBJECT_LIMIT:
        subject = "…" + subject[-(SUBJECT_LIMIT - 1) :]
    values: dict[str, Any] = {
        "at": now,
        "kind": kind,
        "subject": subject,
        "actor_person_id": actor.id if actor else None,
        "actor_telegram_id": actor_telegram_id,
        "data": data or {},
    }
    if at_once:
        session.execute(_INSERT, values)
    else:
        session.add(AuditEvent(**values))


def events(session: Session, kind: str | None = None) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    return session.exec(query).all()


def first_report(session: Session, kind: str, subject: str, period: str, now: datetime) -> bool:
    """True the first time (kind, subject, period) is reported; False ever after."""
    exists = select(Report.id).where(
        Report.kind == kind, Report.subject == subject, Report.period == period
    )
    if session.exec(exists).first() is not None:
        return False
    session.add(Report(kind=kind, subject=subject, period=period, created_at=now))
    session.flush()
    return True
