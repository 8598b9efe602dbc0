"""Webhook delivery: POST each update to the bot's URL, in order, until it is accepted.

https://core.telegram.org/bots/api#setwebhook: "Whenever there is an update for the bot, we
will send an HTTPS POST request to the specified URL, containing a JSON-serialized Update. In
case of an unsuccessful request (a request with response HTTP status code different from
2XY), we will repeat the request and give up after a reasonable amount of attempts."
secret_token: "A secret token to be sent in a header “X-Telegram-Bot-Api-Secret-Token” in
every webhook request".

The sandbox delivers one update at a time, oldest first, over one connection (Telegram may
use up to ``max_connections`` in parallel).  An update is confirmed when the receiver answers
2XX; otherwise the failure is recorded for getWebhookInfo (``last_error_date``,
``last_error_message`` worded like Telegram: "Wrong response from the webhook: 500 Internal
Server Error", "Connection refused", "Read timeout expired") and the same update is retried
after 0.2 s, doubling up to 5 s, for as long as the webhook is set.  Plain ``http://`` URLs
are accepted (Telegram requires HTTPS) because receivers in tests listen on 127.0.0.1.  A
method call in the webhook response body is not executed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FIRST_RETRY = 0.2
LAST_RETRY = 5.0
DELIVERY_TIMEOUT = 10.0


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


async def deliver(webhook: Webhook, queue: UpdateQueue, session: aiohttp.ClientSession) -> None:
    """Deliver the queue's updates to the webhook until cancelled."""
    headers = {"Content-Type": "application/json"}
    if webhook.secret_token:
        headers[SECRET_HEADER] = webhook.secret_token
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
    backoff = FIRST_RETRY
    while True:
        if not queue.items:
            await queue.wait(None)
            continue
        update = queue.items[0]
        error = ""
        try:
            async with session.post(
                webhook.url, data=json.dumps(update), headers=headers, timeout=timeout
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
        if not error:
            queue.confirm(update["update_id"] + 1)
            backoff = FIRST_RETRY
            continue
        webhook.last_error_date = int(time.time())
        webhook.last_error_message = error
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, LAST_RETRY)
