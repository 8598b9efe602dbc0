"""Replies and the pending question put to a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import chunked
from models.tables import PendingInput, Reply


@dataclass(frozen=True, slots=True)
class LastAnswer:
    """What the latest reply to an occurrence said: its kind, a block's category, the time
    a "later" promised."""

    kind: str
    category: str | None
    new_due_at: datetime | None


# Statements run on every tap are built once, here: building one costs more than running it.
_REPLY_BY_UPDATE = (
    sa_select(col(Reply.kind), col(Reply.category), col(Reply.new_due_at))
    .where(col(Reply.telegram_update_id) == bindparam("update_id"))
    .order_by(col(Reply.id))
    .limit(1)
)
_LATEST = (
    sa_select(func.max(col(Reply.id)))
    .where(col(Reply.occurrence_id).in_(bindparam("ids", expanding=True)))
    .group_by(col(Reply.occurrence_id))
)
_LAST_ANSWERS = sa_select(
    col(Reply.occurrence_id), col(Reply.kind), col(Reply.category), col(Reply.new_due_at)
).where(col(Reply.id).in_(_LATEST.scalar_subquery()))


def reply_by_update(session: Session, update_id: int) -> LastAnswer | None:
    """What the first reply this update recorded said (None: it recorded none), as a plain
    row: every tap asks, to answer an update delivered again as it was answered the first
    time."""
    row = session.execute(_REPLY_BY_UPDATE, {"update_id": update_id}).first()
    return LastAnswer(row[0], row[1], row[2]) if row is not None else None


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
    found: dict[int, LastAnswer] = {}
    for chunk in chunked(occurrence_ids):
        rows = session.execute(_LAST_ANSWERS, {"ids": list(chunk)}).all()
        found |= {int(oid): LastAnswer(kind, category, due) for oid, kind, category, due in rows}
    return found


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


_REPLY = Reply.__table__  # type: ignore[attr-defined]
_INSERT_REPLY = insert(_REPLY)


def add_reply(
    session: Session,
    *,
    occurrence_id: int,
    person_id: int,
    kind: str,
    category: str | None,
    text: str | None,
    new_due_at: datetime | None,
    evidence_file_id: str | None,
    evidence_path: str | None,
    via: str,
    source_message_id: int | None,
    telegram_update_id: int | None,
    created_at: datetime,
) -> None:
    """Store a reply at once, with a plain INSERT: an answer stores one row, and building an
    ORM object and flushing it costs more than the row."""
    session.execute(
        _INSERT_REPLY,
        {
            "occurrence_id": occurrence_id, "person_id": person_id, "kind": kind,
            "category": category, "text": text, "new_due_at": new_due_at,
            "evidence_file_id": evidence_file_id, "evidence_path": evidence_path, "via": via,
            "source_message_id": source_message_id, "telegram_update_id": telegram_update_id,
            "created_at": created_at,
        },
    )  # fmt: skip
