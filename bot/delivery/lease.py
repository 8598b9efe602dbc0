"""Keeping a named lease (``bot.store.leases``) while this process does a thing only one
instance may do at a time: poll Telegram, send the outbox.

``LeaseKeeper`` is an asyncio task that takes the lease, or renews it, every ``ttl / 3``
with the real wall clock (never the virtual test clock: instances on one database must agree
on time). ``held`` says whether this process may act now. It turns false

- at once when a renewal is refused (another instance took the lease: ours had expired),
- at this process's own expiry time (the start of the last successful renewal + ttl) when
  renewals fail or hang, for instance while the database is unreachable; since the row's
  expiry is computed later than that, no other instance can take the lease before this one
  stopped believing it holds it.

A clean ``stop`` releases the lease, so another instance takes it within ``ttl / 3``; a
process that dies without releasing it is replaced after the ttl.

Leases are used on PostgreSQL only (``several_instances``): a SQLite file serves one instance,
which needs no election, and a process restarted after a crash must not wait for its dead
predecessor's lease to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.store import leases
from bot.store.engine import session_scope

log = logging.getLogger(__name__)
RELEASE_TIMEOUT = 3.0  # seconds a clean stop waits to release the lease before giving up


def wall_now() -> datetime:
    return datetime.now(UTC)


def several_instances(engine: Engine) -> bool:
    """Whether instances on this database elect who polls, sends and runs each pass."""
    return engine.dialect.name == "postgresql"


def take(engine: Engine, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` once, now (for work that renews when it runs, such
    as a periodic pass); False when another holder's lease is still running."""
    with session_scope(engine) as session:
        return leases.acquire(session, name, holder, wall_now(), ttl)


class LeaseKeeper:
    def __init__(self, engine: Engine, name: str, holder: str, ttl: timedelta) -> None:
        self.engine, self.name, self.holder, self.ttl = engine, name, holder, ttl
        self.task: asyncio.Task[None] | None = None
        self._believed = False  # the last answer was "yours"
        self._valid_until = 0.0  # time.monotonic() at which that belief ends
        self._changed = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._believed and time.monotonic() < self._valid_until

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._keep(), name=f"lease {self.name}")

    async def stop(self) -> None:
        """Stop renewing and give the lease up (a clean stop)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        was_held = self.held
        self._set(False)
        if not was_held:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(self._release), RELEASE_TIMEOUT)
        except Exception as exc:  # the database is gone: the lease expires on its own
            log.warning("could not release the lease %s (%s); it expires by itself", self.name, exc)

    async def wait_held(self) -> None:
        while not self.held:
            changed = self._changed
            await changed.wait()

    async def wait_lost(self) -> None:
        """Return as soon as this process no longer holds the lease."""
        while self.held:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), self._valid_until - time.monotonic())

    async def _keep(self) -> None:
        every = self.ttl.total_seconds() / 3
        failing = False
        while True:
            started = time.monotonic()
            try:
                mine = await asyncio.to_thread(self._acquire)
            except Exception as exc:
                if not failing:
                    log.warning("cannot renew the lease %s (%s); retrying", self.name, exc)
                failing = True
                if self._believed and not self.held:
                    log.warning("lease %s expired while the database failed", self.name)
                    self._set(False)
                await asyncio.sleep(self._pause(every / 2))
                continue
            failing = False
            if mine:
                if not self.held:
                    log.info("took the lease %s as %s", self.name, self.holder)
                self._valid_until = started + self.ttl.total_seconds()
                self._set(True)
            elif self._believed:
                log.warning("lost the lease %s to another instance", self.name)
                self._set(False)
            await asyncio.sleep(self._pause(every))

    def _pause(self, every: float) -> float:
        """Sleep ``every``, but wake at our own expiry to say so."""
        if self._believed:
            return max(0.0, min(every, self._valid_until - time.monotonic()))
        return every

    def _set(self, believed: bool) -> None:
        changed = believed != self._believed
        self._believed = believed
        if changed or believed:
            self._changed.set()
            self._changed = asyncio.Event()

    def _acquire(self) -> bool:
        return take(self.engine, self.name, self.holder, self.ttl)

    def _release(self) -> None:
        with session_scope(self.engine) as session:
            leases.release(session, self.name, self.holder)
