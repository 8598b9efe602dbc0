"""What the running bot's shells share: settings, the database engine, and the clock."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Engine

from bot.config import Settings

P = ParamSpec("P")
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


CLOCK_START_ENV = "EXECBOT_CLOCK_START"
CLOCK_SPEED_ENV = "EXECBOT_CLOCK_SPEED"


def clock_from_env() -> Callable[[], datetime]:
    """The wall clock, unless ``EXECBOT_CLOCK_START`` (an ISO instant with offset) sets a
    virtual one: it starts there and runs ``EXECBOT_CLOCK_SPEED`` times as fast as real time.
    Only for tests and the demo, to make a morning's nudges happen now."""
    start_text = os.environ.get(CLOCK_START_ENV)
    if not start_text:
        return utc_now
    start = datetime.fromisoformat(start_text)
    if start.tzinfo is None:
        raise ValueError(f"{CLOCK_START_ENV} needs an offset, e.g. 2026-11-24T06:59:00+01:00")
    speed = float(os.environ.get(CLOCK_SPEED_ENV, "1"))
    origin = time.monotonic()

    def virtual_now() -> datetime:
        return start.astimezone(UTC) + timedelta(seconds=(time.monotonic() - origin) * speed)

    return virtual_now


def new_instance_id() -> str:
    """This process's name among the instances on one database: host, process id and a random
    part (a restarted process with a reused pid is still another instance)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = field(default=utc_now)
    # who holds inbox claims and leases (bot.store.inbox, bot.store.leases)
    instance: str = field(default_factory=new_instance_id)

    @property
    def admin_keys(self) -> frozenset[str]:
        return frozenset(self.settings.access.admins)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a synchronous service in a worker thread, so no query stalls the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)
