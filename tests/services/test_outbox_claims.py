"""The outbox's claim lease on SQLite and PostgreSQL: a sender that still holds its claims
(sending, or waiting for the database to take the outcomes) renews them, so another
instance's lease never takes them back; an outcome recorded twice counts once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.store import audit, outbox
from bot.store.engine import session_scope
from models.tables import Outbox

T0 = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def queue(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        for i in range(count):
            session.add(
                Outbox(created_at=T0, chat_id=100 + i, kind="escalation", next_attempt_at=T0)
            )


def states(engine: Engine) -> list[tuple[str, int]]:
    with Session(engine) as session:
        rows = session.exec(select(Outbox).order_by(Outbox.id)).all()  # type: ignore[arg-type]
        return [(row.state, row.attempts) for row in rows]


def test_item1_renewed_claims_outlive_the_lease(engine: Engine) -> None:
    queue(engine, 3)
    with session_scope(engine) as session:
        claimed = outbox.claim(session, T0, 10)
    held = [c.id for c in claimed]
    # The database is back after 12 minutes: the sender renews what it holds, every quarter
    # lease (each renewal succeeds here), before another instance looks for expired claims.
    for minutes in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12):
        with session_scope(engine) as session:
            outbox.renew_claims(session, held[:2], T0 + timedelta(minutes=minutes))
    with session_scope(engine) as session:
        released = outbox.release_claims(session, T0 + timedelta(minutes=12) - LEASE)
    assert released == 1  # only the claim nobody renewed (its sender is gone)
    assert [s for s, _ in states(engine)] == ["sending", "sending", "pending"]


def test_item1_a_failure_recorded_twice_counts_once(engine: Engine) -> None:
    """A write-back retried after its commit went through (the connection died on the way
    back) changes nothing the second time."""
    queue(engine, 1)
    with session_scope(engine) as session:
        [claimed] = outbox.claim(session, T0, 10)
    for _ in range(2):
        with session_scope(engine) as session:
            outbox.record_failure(session, claimed.id, "pending", T0 + timedelta(seconds=2), "502")
    assert states(engine) == [("pending", 1)]


def test_item2_dead_messages_not_yet_reported(engine: Engine) -> None:
    queue(engine, 3)
    with session_scope(engine) as session:
        claimed = outbox.claim(session, T0, 10)
        for item in claimed[:2]:
            outbox.record_failure(
                session, item.id, "dead", None, "Bad Request: message is too long"
            )
        audit.first_report(session, outbox.DEAD_REPORT_KIND, f"outbox:{claimed[0].id}", "once", T0)
    with session_scope(engine) as session:
        unreported = outbox.dead_messages(session, unreported=True)
        everything = outbox.dead_messages(session)
    assert [row.id for row in unreported] == [claimed[1].id]
    assert [row.id for row in everything] == [claimed[1].id, claimed[0].id]  # newest first
    assert everything[0].last_error == "Bad Request: message is too long"


def test_a_claim_takes_at_most_its_limit(engine: Engine) -> None:
    """PostgreSQL may rescan an ``IN (... LIMIT n FOR UPDATE SKIP LOCKED)`` subquery and so
    claim past the limit; the claim is a CTE, evaluated once."""
    queue(engine, 5)
    with session_scope(engine) as session:
        assert len(outbox.claim(session, T0, 2)) == 2
    assert [s for s, _ in states(engine)] == ["sending"] * 2 + ["pending"] * 3
