"""A bot's update queue: getUpdates offsets, long polling and allowed_updates.

Semantics follow https://core.telegram.org/bots/api#getupdates and the real server
(``Client::do_get_updates``):

* offset: "An update is considered confirmed as soon as getUpdates is called with an offset
  higher than its update_id. The negative offset can be specified to retrieve updates
  starting from -offset update from the end of the updates queue. All previous updates will
  be forgotten."  Confirmed updates are dropped for good.  An offset beyond the newest update
  + 1 is treated like 0 (nothing is dropped), as the server falls back to the queue head.
* limit: "Values between 1-100 are accepted. Defaults to 100." (out-of-range values are
  clamped, as the server does).
* timeout: long polling waits up to ``timeout`` seconds (clamped to 0-50) and answers as soon
  as an update arrives.  Any second getUpdates (long or not) makes a waiting long poll answer
  409 "Conflict:
  terminated by other getUpdates request; make sure that only one bot instance is running";
  setWebhook makes it answer 409 "Conflict: terminated by setWebhook request".
* allowed_updates: persists across calls ("If not specified, the previous setting will be
  used.") and, like on the server, filters updates when they are created: "Please note that
  this parameter doesn't affect updates created before the call to getUpdates".  An empty
  list restores the default: every type except chat_member, message_reaction and
  message_reaction_count.  Unparseable values leave the setting unchanged.

Update ids start at 1 for each bot and keep increasing for the life of the process, even
across ``/sandbox/reset``, so a polling client never confirms updates it has not seen.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

from sandbox.errors import conflict
from sandbox.waiters import Waiters

ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
DEFAULT_ALLOWED = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
MAX_LONG_POLL = 50
TERMINATED_BY_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
TERMINATED_BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"


def parse_allowed_updates(raw: Any) -> frozenset[str] | None:
    """The new allowed-update set, or ``None`` to keep the current one (server semantics)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        return None
    chosen = frozenset(name.lower() for name in raw) & frozenset(ALL_UPDATE_TYPES)
    return chosen or DEFAULT_ALLOWED


class UpdateQueue:
    """Pending updates of one bot plus the long poll waiting on them."""

    def __init__(self) -> None:
        self.items: deque[dict[str, Any]] = deque()
        self.next_id = 1
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self._waiters = Waiters()
        self._long_poll: asyncio.Future[None] | None = None
        self._done: set[int] = set()  # confirmed out of order (webhook), still in ``items``

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update unless its type is filtered out; wakes every waiter."""
        if kind not in self.allowed:
            return None
        update = {"update_id": self.next_id, kind: payload}
        self.next_id += 1
        self.items.append(update)
        self._waiters.wake_all()
        return update

    def confirm(self, offset: int) -> None:
        """Forget every update below ``offset`` (negative: counted from the end)."""
        head = self.items[0]["update_id"] if self.items else self.next_id
        if offset <= 0:
            if offset < 0:
                offset += self.next_id
            offset = max(offset, head)
        elif offset > self.next_id:
            offset = head
        items = self.items
        while items and items[0]["update_id"] < offset:
            self._done.discard(items.popleft()["update_id"])
        self._drop_done_head()

    def confirm_one(self, update_id: int) -> None:
        """Forget one update, wherever it is in the queue (a webhook delivery accepted)."""
        self._done.add(update_id)
        self._drop_done_head()

    def _drop_done_head(self) -> None:
        items, done = self.items, self._done
        while items and items[0]["update_id"] in done:
            done.discard(items.popleft()["update_id"])

    def count(self) -> int:
        """How many updates wait for confirmation."""
        return len(self.items) - len(self._done)

    def is_done(self, update_id: int) -> bool:
        return update_id in self._done

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """The oldest ``limit`` pending updates, left in the queue."""
        if not self._done:
            if len(self.items) <= limit:
                return list(self.items)
            return [self.items[index] for index in range(limit)]
        waiting = (u for u in self.items if u["update_id"] not in self._done)
        return [update for _, update in zip(range(limit), waiting, strict=False)]

    async def wait(self, timeout: float | None) -> None:
        """Return when an update is pushed or ``timeout`` seconds pass."""
        await self._waiters.wait(timeout)

    async def long_poll(self, timeout: float) -> None:
        """Wait like a getUpdates long poll; a newer long poll or setWebhook ends it with 409."""
        self.abort_long_poll(TERMINATED_BY_GET_UPDATES)
        poll = self._long_poll = self._waiters.new()
        try:
            await self._waiters.wait(timeout, poll)
        finally:
            if self._long_poll is poll:
                self._long_poll = None

    def abort_long_poll(self, description: str) -> bool:
        """Make a waiting long poll answer 409 with ``description``; True if one was waiting."""
        poll = self._long_poll
        self._long_poll = None
        if poll is not None and not poll.done():
            poll.set_exception(conflict(description))
            return True
        return False

    def drop(self) -> None:
        """Forget every pending update (drop_pending_updates)."""
        self.items.clear()
        self._done.clear()

    def clear(self) -> None:
        """Drop pending updates and restore the default filter; ids keep increasing."""
        self.drop()
        self.allowed = DEFAULT_ALLOWED
        self._waiters.wake_all()
