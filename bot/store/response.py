"""Leader response per level of the tree (``models.response``) for a period of plant days.

One row per escalation notice a leader got for an occurrence of the period: when its message
was sent, and when that leader first acted on the item after it (a correlated MIN over the
audit log, by the database); only those two instants per notice come back, the median and
percentile are taken in Python (SQLite has no percentile function).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, and_, cast, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from models.response import LEADER_ACTIONS, Response, levels, summarise
from models.tables import AuditEvent, Leadership, Notice, Occurrence, Outbox, Unit

ESCALATIONS = ("escalate", "block")  # a notice that asks a leader to act (not a reminder)


def leader_response(session: Session, start: date, end: date) -> dict[int | None, Response]:
    """Median and 90th percentile time to act, per leader level, over the notices sent for
    occurrences whose day is in ``start``..``end``."""
    subject = literal("occurrence:").concat(cast(col(Notice.occurrence_id), String))
    acted = (
        sa_select(func.min(col(AuditEvent.at)))
        .where(
            col(AuditEvent.actor_person_id) == col(Notice.recipient_id),
            col(AuditEvent.subject) == subject,
            col(AuditEvent.kind).in_(LEADER_ACTIONS),
            col(AuditEvent.at) >= col(Outbox.sent_at),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        sa_select(col(Notice.recipient_id), col(Outbox.sent_at), acted)
        .join(Outbox, col(Outbox.id) == col(Notice.outbox_id))
        .join(Occurrence, col(Occurrence.id) == col(Notice.occurrence_id))
        .where(
            col(Notice.kind).in_(ESCALATIONS),
            col(Outbox.sent_at).is_not(None),
            and_(col(Occurrence.day) >= start, col(Occurrence.day) <= end),
        )
    ).all()
    parents = dict(session.execute(sa_select(col(Unit.id), col(Unit.parent_id))).all())
    led = session.execute(sa_select(col(Leadership.person_id), col(Leadership.unit_id))).all()
    level = levels(parents, [(int(p), int(u)) for p, u in led])
    return summarise(
        (
            level.get(recipient),
            None if at is None else (at - sent).total_seconds(),
        )
        for recipient, sent, at in rows
    )
