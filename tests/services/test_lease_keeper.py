"""LeaseKeeper on SQLite and PostgreSQL: two keepers on one database, one holds; a clean stop
hands over within a third of the ttl, a crash within the ttl and a third; a holder whose
database fails stops believing it holds at its own expiry, before the other can take over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.delivery.lease import LeaseKeeper, wall_now
from bot.store import leases
from bot.store.engine import make_engine, session_scope

TTL = timedelta(seconds=1.5)
SLACK = 0.4  # seconds: a worker thread and a query on a busy machine


async def until(probe: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``probe`` is true; fails after ``timeout``."""
    start = time.monotonic()
    while not probe():
        assert time.monotonic() - start < timeout, "timed out"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def two(engine: Engine, ttl: timedelta = TTL) -> tuple[LeaseKeeper, LeaseKeeper]:
    a = LeaseKeeper(engine, "sender", "a", ttl)
    a.start()
    await asyncio.wait_for(a.wait_held(), 5)
    b = LeaseKeeper(engine, "sender", "b", ttl)
    b.start()
    await asyncio.sleep(ttl.total_seconds() / 2)
    return a, b


async def test_one_of_two_keepers_holds_and_a_clean_stop_hands_over(engine: Engine) -> None:
    # A longer ttl than the others': the bound below (b's next try, plus a busy machine's
    # stall) must stay clearly under the ttl, which is what an expiry would take.
    ttl = 2 * TTL
    a, b = await two(engine, ttl)
    try:
        assert a.held and not b.held
        await asyncio.sleep(ttl.total_seconds())  # renewals keep it with a
        assert a.held and not b.held
        await a.stop()
        assert not a.held
        with session_scope(engine) as session:
            assert [lease.holder for lease in leases.all_leases(session)] == []
        bound = ttl.total_seconds() / 3 + 2 * SLACK
        assert bound < ttl.total_seconds()
        took = await until(lambda: b.held, bound)
        assert took <= bound
        await asyncio.wait_for(b.wait_held(), 1)
    finally:
        await a.stop()
        await b.stop()


async def test_a_crashed_holder_is_replaced_within_the_ttl_and_a_third(engine: Engine) -> None:
    a, b = await two(engine)
    try:
        assert a.task is not None
        a.task.cancel()  # the process dies: no release, no more renewals
        took = await until(lambda: b.held, TTL.total_seconds() * 4 / 3 + SLACK)
        assert took <= TTL.total_seconds() * 4 / 3 + SLACK
        assert not a.held  # its own belief ended at its expiry, before b took it
    finally:
        await b.stop()


async def test_a_holder_whose_database_fails_stops_holding_at_its_expiry(
    engine: Engine,
) -> None:
    a, b = await two(engine)
    lost = asyncio.ensure_future(a.wait_lost())
    try:
        a.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
        overlap = 0
        start = time.monotonic()
        while not b.held:
            overlap += a.held and b.held
            assert time.monotonic() - start < TTL.total_seconds() * 2 + SLACK, "b never took it"
            await asyncio.sleep(0.005)
        assert not a.held and overlap == 0
        assert lost.done()  # wait_lost returned at the expiry, without a renewal answering
        await asyncio.sleep(TTL.total_seconds())
        assert b.held and not a.held
    finally:
        lost.cancel()
        await a.stop()
        await b.stop()


async def test_a_refused_renewal_is_noticed_at_once(engine: Engine) -> None:
    """Another instance took the lease (ours had run out while this process stalled): the next
    renewal is refused and ``held`` turns false then, not only at the expiry."""
    ttl = timedelta(seconds=3)
    a = LeaseKeeper(engine, "poller", "a", ttl)
    a.start()
    try:
        await asyncio.wait_for(a.wait_held(), 5)
        with session_scope(engine) as session:  # as if a's lease expired and b took it
            leases.release(session, "poller", "a")
            assert leases.acquire(session, "poller", "b", wall_now(), ttl * 10)
        took = await until(lambda: not a.held, 1 + SLACK)
        assert took <= 1 + SLACK  # the next renewal, a third of the ttl, not the expiry
    finally:
        await a.stop()
    with session_scope(engine) as session:
        assert leases.holder_of(session, "poller", wall_now()) == "b"  # a's stop released nothing
