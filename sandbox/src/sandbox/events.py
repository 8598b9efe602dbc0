"""Change events for watchers of the sandbox (the chat page): what changed, never the content.

Every change a person would see in a chat is published as a small JSON-able dict with an
increasing ``id``: ``message`` (a new message, from the bot or the person), ``edit``,
``delete``, ``callback_answer`` (with the toast text), ``chat`` (blocked, unblocked, group
created), ``person`` (a person was created) and ``reset``.  Watchers fetch the transcript
to see the content.

:class:`EventHub` keeps the latest events in a ring so a watcher that reconnects (SSE
``Last-Event-ID``, or the long-poll ``since``) gets what it missed; one that fell further
behind gets a single ``resync`` event and reloads.  Each subscriber has a bounded queue; a
subscriber that does not keep up is sent ``resync`` and its backlog is dropped, so a stalled
browser never makes the server hold memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sandbox.waiters import Waiters

Event = dict[str, Any]

HISTORY = 1000
QUEUE_SIZE = 1000


class Subscription:
    """One watcher's queue of events; ``None`` in the queue means the hub closed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, event: Event | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drain()
            self.queue.put_nowait(None if event is None else {"id": event["id"], "type": "resync"})

    def _drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    async def next(self, timeout: float) -> Event | None:
        """The next event, or None after ``timeout`` seconds (or when the hub closed)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class EventHub:
    """Publishes change events to subscribers and remembers the latest ones."""

    def __init__(self) -> None:
        self.last_id = 0
        self.history: deque[Event] = deque(maxlen=HISTORY)
        self.subscribers: set[Subscription] = set()
        self.closed = False
        self._waiters = Waiters()

    def publish(self, kind: str, **fields: Any) -> Event:
        self.last_id += 1
        event: Event = {"id": self.last_id, "type": kind, **fields}
        self.history.append(event)
        for subscriber in self.subscribers:
            subscriber.offer(event)
        self._waiters.wake_all()
        return event

    def since(self, last_seen: int) -> list[Event]:
        """Events after ``last_seen``; a single ``resync`` if some of them are forgotten.

        An id beyond the newest (the server restarted) is answered with ``resync`` too.
        """
        if last_seen >= self.last_id:
            return [] if last_seen == self.last_id else [self._resync()]
        oldest = self.history[0]["id"] if self.history else self.last_id + 1
        if last_seen < oldest - 1:
            return [self._resync()]
        return [event for event in self.history if event["id"] > last_seen]

    def _resync(self) -> Event:
        return {"id": self.last_id, "type": "resync"}

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    async def wait_after(self, last_seen: int, timeout: float) -> list[Event]:
        """Long poll: events after ``last_seen``, waiting up to ``timeout`` for the first."""
        events = self.since(last_seen)
        if events or timeout <= 0 or self.closed:
            return events
        await self._waiters.wait(timeout)
        return self.since(last_seen)

    def close(self) -> None:
        """End every stream and long poll (server shutdown)."""
        self.closed = True
        for subscriber in self.subscribers:
            subscriber.offer(None)
        self._waiters.wake_all()
