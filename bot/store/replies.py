"""Replies and the pending question put to a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import select_in
from models.tables import PendingInput, Reply


@dataclass(frozen=True, slots=True)
class LastAnswer:
    """What the latest reply to an occurrence said: its kind, a block's category, the time
    a "later" promised."""

    kind: str
    category: str | None
    new_due_at: datetime | None


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


def last_answers(session: Session, occurrence_ids: Sequence[int]) -> dict[int, LastAnswer]:
    """The latest reply to each of these occurrences (those without a reply are left out),
    as ``last_reply`` would give it, in one query for all of them and without ORM objects."""

    def query(chunk: Sequence[int]) -> Select[int, str, str | None, datetime | None]:
        latest = (
            sa_select(func.max(col(Reply.id)))
            .where(col(Reply.occurrence_id).in_(chunk))
            .group_by(col(Reply.occurrence_id))
        )
        return sa_select(
            col(Reply.occurrence_id), col(Reply.kind), col(Reply.category), col(Reply.new_due_at)
        ).where(col(Reply.id).in_(latest.scalar_subquery()))

    rows = select_in(session, occurrence_ids, query)
    return {int(oid): LastAnswer(kind, category, due) for oid, kind, category, due in rows}


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
