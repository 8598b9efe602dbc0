"""What the running bot's shells share: settings, the database engine, and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Engine

from bot.config import Settings

P = ParamSpec("P")
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = field(default=utc_now)

    @property
    def admin_keys(self) -> frozenset[str]:
        return frozenset(self.settings.access.admins)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a synchronous service in a worker thread, so no query stalls the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)
