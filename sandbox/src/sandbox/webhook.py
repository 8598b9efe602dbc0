"""Webhook delivery: POST updates to the bot's URL, up to ``max_connections`` at a time,
each chat's in order, until each is accepted.

https://core.telegram.org/bots/api#setwebhook: "Whenever there is an update for the bot, we
will send an HTTPS POST request to the specified URL, containing a JSON-serialized Update. In
case of an unsuccessful request (a request with response HTTP status code different from
2XY), we will repeat the request and give up after a reasonable amount of attempts."
max_connections: "The maximum allowed number of simultaneous HTTPS connections to the webhook
for update delivery, 1-100. Defaults to 40."  secret_token: "A secret token to be sent in a
header “X-Telegram-Bot-Api-Secret-Token” in every webhook request".

The sandbox keeps up to ``max_connections`` deliveries in flight, oldest updates first, and
never sends an update of a chat while an earlier update of that chat is unconfirmed (in
flight or waiting to be retried), so each chat's updates arrive in order while other chats
go on.  An update is confirmed when the receiver answers 2XX; otherwise the failure is
recorded for getWebhookInfo (``last_error_date``, ``last_error_message`` worded like
Telegram: "Wrong response from the webhook: 500 Internal Server Error", "Connection
refused", "Read timeout expired"), the update stays first in its chat's line, and no new
delivery starts for 0.2 s, doubling on each further failure up to 5 s and back to 0.2 s
after a success, for as long as the webhook is set (a receiver that is down is not
hammered by every pending update).  Counters: ``webhook_deliveries`` (POSTs started),
``webhook_failures`` (non-2XX or no answer) and ``webhook_confirmed``.  Plain ``http://`` URLs
are accepted (Telegram requires HTTPS) because receivers in tests listen on 127.0.0.1.  A
method call in the webhook response body is not executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from sandbox.updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FIRST_RETRY = 0.2
LAST_RETRY = 5.0
DELIVERY_TIMEOUT = 10.0


class DeliveryCounters(Protocol):
    webhook_deliveries: int
    webhook_failures: int
    webhook_confirmed: int


@dataclass(slots=True)
class Webhook:
    """A bot's webhook settings and delivery state."""

    url: str
    secret_token: str
    max_connections: int
    last_error_date: int = 0
    last_error_message: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def info(
        self, pending: int, allowed: frozenset[str], default_allowed: frozenset[str]
    ) -> dict[str, Any]:
        """The WebhookInfo object getWebhookInfo returns."""
        result: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.last_error_date:
            result["last_error_date"] = self.last_error_date
            result["last_error_message"] = self.last_error_message
        if allowed != default_allowed:
            result["allowed_updates"] = sorted(allowed)
        return result

    def stop(self) -> asyncio.Task[None] | None:
        """Cancel delivery; returns the cancelled task so a caller may wait for it."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
        return task


def chat_key(update: dict[str, Any]) -> int | None:
    """The chat whose updates must arrive in order (the sender's id when there is no chat)."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


class _Delivery:
    """The in-flight deliveries and retry times of one webhook."""

    def __init__(
        self,
        webhook: Webhook,
        queue: UpdateQueue,
        session: aiohttp.ClientSession,
        counters: DeliveryCounters,
    ) -> None:
        self.webhook = webhook
        self.queue = queue
        self.session = session
        self.counters = counters
        self.headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            self.headers[SECRET_HEADER] = webhook.secret_token
        self.timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.paused_until = 0.0  # after a failure, nothing new starts before this
        self.backoff = FIRST_RETRY
        self.changed = asyncio.Event()

    async def run(self) -> None:
        watcher = asyncio.get_running_loop().create_task(self._watch_queue())
        try:
            while True:
                self.changed.clear()
                now = time.monotonic()
                timeout = None
                if now < self.paused_until:
                    timeout = self.paused_until - now
                else:
                    self._start_eligible()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout)
        finally:
            watcher.cancel()
            for task in list(self.in_flight.values()):
                task.cancel()

    async def _watch_queue(self) -> None:
        while True:
            await self.queue.wait(None)
            self.changed.set()

    def _start_eligible(self) -> None:
        """Start the oldest deliveries that may go now (free connections, chat not busy)."""
        limit = self.webhook.max_connections
        if len(self.in_flight) >= limit:
            return
        busy: set[int] = set()
        for update in self.queue.items:
            update_id = update["update_id"]
            if self.queue.is_done(update_id):
                continue
            key = chat_key(update)
            if update_id in self.in_flight or (key is not None and key in busy):
                if key is not None:
                    busy.add(key)
                continue
            if len(self.in_flight) >= limit:
                break
            if key is not None:
                busy.add(key)
            task = asyncio.get_running_loop().create_task(self._post(update))
            self.in_flight[update_id] = task

    async def _post(self, update: dict[str, Any]) -> None:
        update_id = update["update_id"]
        self.counters.webhook_deliveries += 1
        error = ""
        try:
            async with self.session.post(
                self.webhook.url,
                data=json.dumps(update),
                headers=self.headers,
                timeout=self.timeout,
            ) as response:
                await response.read()
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as failure:
            error = f"Connection error: {failure}"
        finally:
            self.in_flight.pop(update_id, None)
            self.changed.set()
        if not error:
            self.counters.webhook_confirmed += 1
            self.backoff = FIRST_RETRY
            self.queue.confirm_one(update_id)
            return
        self.counters.webhook_failures += 1
        self.webhook.last_error_date = int(time.time())
        self.webhook.last_error_message = error
        self.paused_until = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, LAST_RETRY)


async def deliver(
    webhook: Webhook,
    queue: UpdateQueue,
    session: aiohttp.ClientSession,
    counters: DeliveryCounters,
) -> None:
    """Deliver the queue's updates to the webhook until cancelled."""
    await _Delivery(webhook, queue, session, counters).run()
