"""Bot API methods that hand updates to the bot: getUpdates and the webhook methods.

One way at a time, as on Telegram: getUpdates while a webhook is set is a 409, and any newer
getUpdates or setWebhook ends a waiting long poll with a 409 (:mod:`sandbox.updates`); the
long polls ended by another getUpdates are counted (``polling_conflicts``).
setWebhook and deleteWebhook answer with Telegram's ``description`` (:class:`Described`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.errors import ApiError, bad_request
from sandbox.params import Params, bool_arg, int_arg, text_arg
from sandbox.state import Bot, Sandbox
from sandbox.updates import (
    DEFAULT_ALLOWED,
    MAX_LONG_POLL,
    TERMINATED_BY_GET_UPDATES,
    TERMINATED_BY_SET_WEBHOOK,
    parse_allowed_updates,
)
from sandbox.webhook import Webhook, deliver


@dataclass(frozen=True, slots=True)
class Described:
    """A result that Telegram sends together with a ``description``."""

    result: Any
    description: str


async def get_updates(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Pending updates from ``offset``; waits up to ``timeout`` seconds when there are none."""
    if bot.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = int_arg(params, "offset")
    limit = min(max(int_arg(params, "limit", 100), 1), 100)
    timeout = min(max(int_arg(params, "timeout"), 0), MAX_LONG_POLL)
    queue = bot.updates
    allowed = parse_allowed_updates(params.get("allowed_updates"))
    if allowed is not None:
        queue.allowed = allowed
    if queue.abort_long_poll(TERMINATED_BY_GET_UPDATES):
        sandbox.counters.polling_conflicts += 1
    queue.confirm(offset)
    if not queue.count() and timeout > 0:
        await queue.long_poll(timeout)
        queue.confirm(offset)
    return queue.pending(limit)


def set_webhook(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Deliver updates to ``url`` from now on; an empty url deletes the webhook."""
    url = text_arg(params, "url").strip()
    if not url:
        return delete_webhook(sandbox, bot, params)
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise bad_request("invalid webhook URL specified")
    allowed = parse_allowed_updates(params.get("allowed_updates"))
    if allowed is not None:
        bot.updates.allowed = allowed
    if bool_arg(params, "drop_pending_updates"):
        bot.updates.drop()
    max_connections = min(max(int_arg(params, "max_connections", 40), 1), 100)
    secret = text_arg(params, "secret_token")
    current = bot.webhook
    if current is not None and (current.url, current.secret_token, current.max_connections) == (
        url,
        secret,
        max_connections,
    ):
        return Described(True, "Webhook is already set")
    if current is not None:
        current.stop()
    bot.updates.abort_long_poll(TERMINATED_BY_SET_WEBHOOK)
    webhook = Webhook(url, secret, max_connections)
    bot.webhook = webhook
    if sandbox.http is None:
        sandbox.http = aiohttp.ClientSession()
    webhook.task = asyncio.get_running_loop().create_task(
        deliver(webhook, bot.updates, sandbox.http, sandbox.counters)
    )
    return Described(True, "Webhook was set")


def delete_webhook(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Stop webhook delivery; pending updates stay unless drop_pending_updates is true."""
    if bool_arg(params, "drop_pending_updates"):
        bot.updates.drop()
    if bot.webhook is None:
        return Described(True, "Webhook is already deleted")
    bot.webhook.stop()
    bot.webhook = None
    return Described(True, "Webhook was deleted")


def get_webhook_info(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """WebhookInfo; ``url`` is empty while polling."""
    queue = bot.updates
    if bot.webhook is None:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": queue.count(),
        }
    return bot.webhook.info(queue.count(), queue.allowed, DEFAULT_ALLOWED)
