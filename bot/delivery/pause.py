"""A 429's pause, shared by every instance through the database.

Telegram counts per bot: a 429 (``retry_after``) seen by any instance must hold the sends of
all of them. The instant sends may resume (wall clock) is stored in the ``setting`` table;
each instance reads it before it sends and holds its ``Pacer`` until then. A sender taking
over from another reads it first, so a pause outlives the instance that saw the 429.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.store.engine import session_scope
from bot.store.settings import pause_sends, sends_paused_until
from models.pacing import Pacer

log = logging.getLogger(__name__)


class SharedPause:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_at = float("-inf")  # time.monotonic() of the last read

    async def share(self, seconds: float) -> None:
        """Tell every instance: no sends for ``seconds`` from now."""
        now = datetime.now(UTC)
        try:
            await asyncio.to_thread(self._write, now + timedelta(seconds=seconds), now)
        except Exception as exc:  # this instance holds its sends anyway; the others see 429s
            log.warning("could not share a %.0f s pause with other instances (%s)", seconds, exc)

    async def apply(self, pacer: Pacer, max_age: float = 0.0) -> None:
        """Hold ``pacer`` until the shared pause ends; reads the database at most every
        ``max_age`` seconds. A database that fails to answer holds nothing (the pacer's own
        pause still applies)."""
        if time.monotonic() - self._read_at < max_age:
            return
        self._read_at = time.monotonic()
        try:
            until = await asyncio.to_thread(self._read)
        except Exception as exc:
            log.debug("could not read the shared send pause (%s)", exc)
            return
        if until is None:
            return
        left = (until - datetime.now(UTC)).total_seconds()
        if left > 0:
            pacer.pause(asyncio.get_running_loop().time() + left)

    def _write(self, until: datetime, now: datetime) -> None:
        with session_scope(self.engine) as session:
            pause_sends(session, until, now)

    def _read(self) -> datetime | None:
        with session_scope(self.engine) as session:
            return sends_paused_until(session)
