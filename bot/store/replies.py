"""Replies and the pending question put to a person."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from models.tables import PendingInput, Reply


def reply_by_update(session: Session, update_id: int) -> Reply | None:
    return session.exec(select(Reply).where(Reply.telegram_update_id == update_id)).first()


def replies_by_update(session: Session, update_id: int) -> list[Reply]:
    """Every reply one update recorded ("done 1 3" records two), in the order stored."""
    query = select(Reply).where(Reply.telegram_update_id == update_id).order_by(col(Reply.id))
    return list(session.exec(query).all())


def last_reply(session: Session, occurrence_id: int) -> Reply | None:
    query = (
        select(Reply)
        .where(Reply.occurrence_id == occurrence_id)
        .order_by(col(Reply.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def pending_input(session: Session, person_id: int, now: datetime) -> PendingInput | None:
    row = session.get(PendingInput, person_id)
    if row is not None and row.expires_at <= now:
        session.delete(row)
        return None
    return row


def ask(session: Session, question: PendingInput) -> None:
    """Record the question put to a person, replacing any earlier one."""
    old = session.get(PendingInput, question.person_id)
    if old is not None:
        session.delete(old)
        session.flush()
    session.add(question)


def forget_question(session: Session, person_id: int) -> None:
    old = session.get(PendingInput, person_id)
    if old is not None:
        session.delete(old)


def add_reply(session: Session, reply: Reply) -> None:
    session.add(reply)
