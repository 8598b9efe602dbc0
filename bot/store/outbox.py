"""The outbox: messages to send, claimed by the sender, their outcomes, and the dead ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, func, literal, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.store.chunks import chunked, select_in
from models.tables import Occurrence, Outbox, Person, Report


def enqueue(session: Session, message: Outbox) -> Outbox | None:
    """Store a message to send, unless one with the same dedupe key exists (then None)."""
    if message.dedupe_key is not None:
        exists = select(Outbox.id).where(Outbox.dedupe_key == message.dedupe_key)
        if session.exec(exists).first() is not None:
            return None
    session.add(message)
    session.flush()
    return message


def enqueue_many(session: Session, messages: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store many messages in one statement, skipping dedupe keys stored before; returns
    dedupe key -> outbox id of those stored now."""
    if not messages:
        return {}
    table = Outbox.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        statement: Any = postgresql_insert(table)
    else:
        statement = sqlite_insert(table)
    statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(
        table.c.id, table.c.dedupe_key
    )
    rows = [
        row
        for batch in chunked(messages)  # each row's values are variables of the statement
        for row in session.execute(statement.values(list(batch))).all()
    ]
    return {key: int(outbox_id) for outbox_id, key in rows}


def stored_dedupe_keys(session: Session, keys: Sequence[str | None]) -> set[str | None]:
    return set(
        select_in(
            session,
            keys,
            lambda chunk: select(col(Outbox.dedupe_key)).where(col(Outbox.dedupe_key).in_(chunk)),
        )
    )


def add_new(session: Session, messages: Sequence[Outbox]) -> list[Outbox]:
    """Store in one batch the messages whose dedupe key is not stored yet (as ``enqueue``
    would one by one); returns those stored, with their ids."""
    stored = stored_dedupe_keys(session, [message.dedupe_key for message in messages])
    fresh = [message for message in messages if message.dedupe_key not in stored]
    session.add_all(fresh)
    session.flush()  # one batch of inserts; the ids come back
    return fresh


def by_id(session: Session, outbox_id: int) -> Outbox | None:
    return session.get(Outbox, outbox_id)


def save(session: Session, message: Outbox) -> None:
    """Store the changes made to a stored message (its payload, after an edit)."""
    session.add(message)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    person_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    stale_at: datetime | None


def claim(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due messages for sending (``pending`` -> ``sending``).

    The conditional UPDATE claims each row once even with several senders; on PostgreSQL
    ``FOR UPDATE SKIP LOCKED`` lets concurrent instances take disjoint batches.
    """
    due = (
        select(Outbox.id)
        .where(Outbox.state == "pending", col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")  # evaluated once: as an IN subquery PostgreSQL may rescan it past the limit
    )
    claim = (
        update(Outbox)
        .where(col(Outbox.id).in_(sa_select(due.c.id)), col(Outbox.state) == "pending")
        .values(state="sending", claimed_at=now)
        .returning(
            col(Outbox.id),
            col(Outbox.chat_id),
            col(Outbox.person_id),
            col(Outbox.kind),
            col(Outbox.payload),
            col(Outbox.attempts),
            col(Outbox.stale_at),
        )
    )
    rows = session.execute(claim).all()
    claimed = [Claimed(*row) for row in rows]
    return sorted(claimed, key=lambda c: c.id)


def release_claims(session: Session, claimed_before: datetime) -> int:
    """Return messages claimed before ``claimed_before`` and never finished to ``pending``
    (their sender died). Such a message may have reached Telegram: the only duplicates."""
    result = session.execute(
        update(Outbox)
        .where(col(Outbox.state) == "sending", col(Outbox.claimed_at) < claimed_before)
        .values(state="pending", claimed_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def return_claims(session: Session, outbox_ids: Sequence[int]) -> int:
    """The sender stops without sending these: back to ``pending`` for the next one."""
    returned = 0
    for chunk in chunked(outbox_ids):
        result = session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(chunk), col(Outbox.state) == "sending")
            .values(state="pending", claimed_at=None)
        )
        returned += int(result.rowcount)  # type: ignore[attr-defined]
    return returned


def renew_claims(session: Session, outbox_ids: Sequence[int], now: datetime) -> None:
    """The sender still holds these claims (sending, or waiting to record the outcome): move
    their claim time to ``now`` so that no other instance's lease takes them back."""
    for chunk in chunked(outbox_ids):
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(chunk), col(Outbox.state) == "sending")
            .values(claimed_at=now)
        )


def record_sent(session: Session, sent: Sequence[tuple[int, int | None, datetime]]) -> None:
    """Mark messages sent: (outbox id, Telegram message id, sent at), in one statement."""
    if not sent:
        return
    table = Outbox.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("outbox_id"))
        .values(
            state="sent",
            sent_at=bindparam("at"),
            telegram_message_id=bindparam("message_id"),
            last_error=None,
        ),
        [{"outbox_id": i, "message_id": m, "at": at} for i, m, at in sent],
    )


def record_failure(
    session: Session, outbox_id: int, state: str, retry_at: datetime | None, error: str
) -> None:
    """A failed send: back to ``pending`` for ``retry_at``, or ``dead`` (given up), or
    ``skipped`` (stale; a nudge's occurrences then say "skipped", not nudged). Only a row still
    claimed changes, so recording the same failure twice counts it once."""
    values: dict[str, Any] = {
        "state": state,
        "attempts": col(Outbox.attempts) + 1,
        "last_error": error[:500],
        "claimed_at": None,
    }
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    changed = session.execute(
        update(Outbox)
        .where(col(Outbox.id) == outbox_id, col(Outbox.state) == "sending")
        .values(**values)
    )
    if state == "skipped" and changed.rowcount:  # type: ignore[attr-defined]
        session.execute(
            update(Occurrence)
            .where(
                col(Occurrence.nudge_outbox_id) == outbox_id,
                col(Occurrence.nudge_state).in_(["queued", "late"]),
            )
            .values(nudge_state="skipped")
        )


@dataclass(frozen=True, slots=True)
class DeadMessage:
    """A message given up (state ``dead``), with whom it was for."""

    id: int
    kind: str
    chat_id: int
    person_key: str | None
    person_name: str | None
    created_at: datetime
    attempts: int
    last_error: str | None


DEAD_REPORT_KIND = "dead"  # ``report.kind`` of a dead message told to the admins


DEAD_SUBJECT = "outbox:"  # + the outbox id: ``report.subject`` of that report


def dead_messages(
    session: Session, *, unreported: bool = False, limit: int | None = None
) -> list[DeadMessage]:
    """Messages given up, newest first; ``unreported``: only those not yet told to admins."""
    query = (
        sa_select(
            col(Outbox.id),
            col(Outbox.kind),
            col(Outbox.chat_id),
            col(Person.key),
            col(Person.name),
            col(Outbox.created_at),
            col(Outbox.attempts),
            col(Outbox.last_error),
        )
        .outerjoin(Person, col(Person.id) == col(Outbox.person_id))
        .where(col(Outbox.state) == "dead")
        .order_by(col(Outbox.id).desc())
        .limit(limit)
    )
    if unreported:
        subject = literal(DEAD_SUBJECT) + cast(col(Outbox.id), String)
        told = sa_select(col(Report.id)).where(
            col(Report.kind) == DEAD_REPORT_KIND, col(Report.subject) == subject
        )
        query = query.where(~told.exists())
    return [DeadMessage(*row) for row in session.execute(query).all()]


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Outbox.state, func.count()).group_by(col(Outbox.state))).all()
    return {state: int(count) for state, count in rows}
