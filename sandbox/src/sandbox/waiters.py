"""Coroutines waiting for the next change, woken all at once (long polls, webhook delivery)."""

from __future__ import annotations

import asyncio


class Waiters:
    """Futures that the next :meth:`wake_all` resolves."""

    def __init__(self) -> None:
        self._futures: set[asyncio.Future[None]] = set()

    def new(self) -> asyncio.Future[None]:
        """A future the next wake-up resolves (or that its owner fails, e.g. with a 409)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures.add(future)
        return future

    async def wait(self, timeout: float | None, future: asyncio.Future[None] | None = None) -> None:
        """Return at the next wake-up or after ``timeout`` seconds; ``future``: one from
        :meth:`new` (a fresh one by default), whose exception is raised here."""
        future = future if future is not None else self.new()
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            self._futures.discard(future)

    def wake_all(self) -> None:
        futures, self._futures = self._futures, set()
        for future in futures:
            if not future.done():
                future.set_result(None)
