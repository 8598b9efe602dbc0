"""The inbox and lease tables on SQLite and PostgreSQL: an update stored twice is stored once;
one chat's updates are claimed in order, one at a time, while other chats go on; two claimers
never take the same row; a lease has one holder until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.store import inbox, leases
from bot.store.engine import session_scope
from models.tables import InboxUpdate

T0 = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)


def put(engine: Engine, *items: tuple[int, int]) -> int:
    with session_scope(engine) as session:
        return inbox.store(session, [inbox.Received(u, c, {"update_id": u}) for u, c in items], T0)


def take(engine: Engine, holder: str = "a", limit: int = 10) -> list[tuple[int, int]]:
    with session_scope(engine) as session:
        return [(c.update_id, c.chat_key) for c in inbox.claim(session, T0, limit, holder)]


def test_an_update_delivered_again_is_stored_once(engine: Engine) -> None:
    assert put(engine, (1, 10), (2, 20)) == 2
    assert put(engine, (2, 20), (3, 30)) == 1
    with session_scope(engine) as session:
        assert inbox.counts(session) == {"pending": 3}


def test_one_chat_in_order_other_chats_alongside(engine: Engine) -> None:
    put(engine, (1, 10), (2, 10), (3, 20), (4, 10), (5, 30))
    first = take(engine)
    assert first == [(1, 10), (3, 20), (5, 30)]  # one per chat, each chat's earliest
    assert take(engine, "b") == []  # chat 10's next waits while update 1 is handled
    with session_scope(engine) as session:
        handling = session.exec(select(InboxUpdate).where(InboxUpdate.update_id == 1)).one()
        assert (handling.state, handling.claimed_by) == ("handling", "a")
        inbox.finish(session, [handling.id or 0], T0)
    assert take(engine) == [(2, 10)]


def test_a_failed_update_is_retried_later_then_kept_dead(engine: Engine) -> None:
    put(engine, (1, 10), (2, 10))
    with session_scope(engine) as session:
        [claimed] = inbox.claim(session, T0, 10, "a")
        inbox.fail(session, claimed.id, "database gone", T0 + timedelta(seconds=5))
    assert take(engine) == []  # not due yet, and chat 10's next keeps its place behind it
    with session_scope(engine) as session:
        [again] = inbox.claim(session, T0 + timedelta(seconds=5), 10, "a")
        assert (again.update_id, again.attempts) == (1, 1)
        inbox.fail(session, again.id, "still gone", None)
        assert [d.update_id for d in inbox.dead_updates(session)] == [1]
        assert inbox.dead_updates(session)[0].last_error == "still gone"
    assert take(engine) == [(2, 10)]  # a dead update no longer holds its chat


def test_release_returns_a_stopped_or_dead_holders_rows(engine: Engine) -> None:
    put(engine, (1, 10), (2, 20))
    take(engine, "a", limit=1)
    take(engine, "b", limit=1)
    with session_scope(engine) as session:
        assert inbox.release(session, holder="a") == 1
        assert inbox.release(session, claimed_before=T0 + timedelta(seconds=1)) == 1
        assert inbox.counts(session) == {"pending": 2}


def test_a_lease_has_one_holder_until_it_expires(engine: Engine) -> None:
    ttl = timedelta(seconds=10)
    with session_scope(engine) as session:
        assert leases.acquire(session, "sender", "a", T0, ttl)
    with session_scope(engine) as session:
        assert not leases.acquire(session, "sender", "b", T0 + timedelta(seconds=5), ttl)
        assert leases.acquire(session, "sender", "a", T0 + timedelta(seconds=5), ttl)  # renew
        assert leases.acquire(session, "poller", "b", T0, ttl)  # another name, another lease
    with session_scope(engine) as session:
        assert not leases.acquire(session, "sender", "b", T0 + timedelta(seconds=14), ttl)
        assert leases.holder_of(session, "sender", T0 + timedelta(seconds=14)) == "a"
        assert leases.acquire(session, "sender", "b", T0 + timedelta(seconds=16), ttl)
        assert leases.holder_of(session, "sender", T0 + timedelta(seconds=16)) == "b"
    with session_scope(engine) as session:
        assert not leases.release(session, "sender", "a")
        assert leases.release(session, "sender", "b")
        assert leases.holder_of(session, "sender", T0 + timedelta(seconds=16)) is None
