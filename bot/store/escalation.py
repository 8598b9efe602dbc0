"""Escalation state and notices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import select_in
from models.tables import Notice, Occurrence, Outbox


def due_escalations(session: Session, now: datetime, limit: int) -> list[Occurrence]:
    """Occurrences whose next escalation step is due (the index makes "nothing due" cheap)."""
    query = (
        select(Occurrence)
        .where(col(Occurrence.next_step_at).is_not(None), col(Occurrence.next_step_at) <= now)
        .order_by(col(Occurrence.next_step_at), col(Occurrence.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def pending_notices(session: Session) -> list[Notice]:
    query = select(Notice).where(Notice.state == "pending").order_by(col(Notice.id))
    return list(session.exec(query).all())


def notices_in(session: Session, outbox_id: int) -> list[Notice]:
    query = select(Notice).where(Notice.outbox_id == outbox_id).order_by(col(Notice.id))
    return list(session.exec(query).all())


def notices_of(session: Session, occurrence_id: int) -> list[Notice]:
    query = select(Notice).where(Notice.occurrence_id == occurrence_id).order_by(col(Notice.id))
    return list(session.exec(query).all())


def last_told(
    session: Session, occurrence_ids: Sequence[int], since: datetime
) -> dict[tuple[int, int], datetime]:
    """(recipient, occurrence) -> when the latest message listing it was queued, for messages
    queued since ``since``."""

    def query(chunk: Sequence[int]) -> Select[int, int, datetime]:
        return (
            sa_select(
                col(Notice.recipient_id), col(Notice.occurrence_id), func.max(Outbox.created_at)
            )
            .join(Outbox, col(Outbox.id) == col(Notice.outbox_id))
            .where(col(Notice.occurrence_id).in_(chunk), col(Outbox.created_at) >= since)
            .group_by(col(Notice.recipient_id), col(Notice.occurrence_id))
        )

    rows = select_in(session, occurrence_ids, query)
    return {(int(recipient), int(occurrence)): at for recipient, occurrence, at in rows}


def notice_keys(session: Session, occurrence_ids: Sequence[int]) -> set[tuple[int, int, str]]:
    """(occurrence, recipient, step) of every notice stored for these occurrences."""

    def query(chunk: Sequence[int]) -> Select[int, int, str]:
        return sa_select(
            col(Notice.occurrence_id), col(Notice.recipient_id), col(Notice.step)
        ).where(col(Notice.occurrence_id).in_(chunk))

    return {(int(o), int(r), str(s)) for o, r, s in select_in(session, occurrence_ids, query)}


def save_notices(session: Session, notices: Iterable[Notice]) -> None:
    """Store new notices, or the changes made to loaded ones (state, delivery time)."""
    session.add_all(notices)
