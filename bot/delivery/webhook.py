"""Webhook mode: Telegram POSTs each update to execbot, which answers 200 only after the
update is committed to the inbox (``bot.store.inbox``).

https://core.telegram.org/bots/api#setwebhook: "In case of an unsuccessful request (a request
with response HTTP status code different from 2XY), we will repeat the request and give up
after a reasonable amount of attempts." So a process that dies, or a database that fails,
before the commit loses nothing: the update is not confirmed and comes again. An update that
comes again after it was stored stores nothing (the inbox's ``update_id`` is unique).

Every request must carry the secret given to setWebhook (``X-Telegram-Bot-Api-Secret-Token``,
compared in constant time): without it anyone who learns the URL could post forged updates
(a forged tap resolving a block as the admin). execbot refuses to start in webhook mode without
a secret. Bodies are limited to ``MAX_BODY``.

The same server answers /healthz, /readyz and /metrics (``bot.ops``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot import ops
from bot.config import WebhookSettings
from bot.context import App
from bot.delivery import polling
from bot.metrics import UPDATES_RECEIVED
from bot.runtime import Runtime, utc_now
from bot.store import inbox
from bot.store.engine import session_scope
from models.updates import chat_key

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's rule for secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and -".
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_BODY = ops.MAX_BODY  # the server's client_max_size
MAX_UPDATE_ID = 2**63 - 1  # the inbox column is a signed 64-bit integer
RECEIVED = UPDATES_RECEIVED.labels(mode="webhook")


class SecretError(Exception):
    """The webhook secret is missing or malformed; the message names the variable, never
    the value."""


def secret_from_env(hook: WebhookSettings, environ: Mapping[str, str] = os.environ) -> str:
    """The webhook secret from the environment variable ``[telegram.webhook] secret_env``."""
    problem = secret_problem(hook, environ)
    if problem is not None:
        raise SecretError(problem)
    return environ[hook.secret_env]


def secret_problem(hook: WebhookSettings, environ: Mapping[str, str] = os.environ) -> str | None:
    """What is wrong with the webhook secret (None: nothing), worded for the operator."""
    name = hook.secret_env
    value = environ.get(name, "")
    if not value:
        return (
            f"webhook mode needs a secret: the environment variable {name} is not set. "
            "Without it anyone who learns the webhook URL could post forged updates. "
            f"Set it to 1-256 characters of A-Z a-z 0-9 _ -, for example: "
            f"export {name}=$(openssl rand -hex 32)"
        )
    if not SECRET_SHAPE.fullmatch(value):
        what = f"it has {len(value)}" if len(value) > 256 else "it holds others"
        return (
            f"the webhook secret in {name} is not valid for Telegram: it must be 1-256 "
            f"characters of A-Z a-z 0-9 _ - ({what}); for example: "
            f"export {name}=$(openssl rand -hex 32)"
        )
    return None


def store_update(rt: Runtime, received: inbox.Received) -> int:
    """Commit one update to the inbox; 1 if it is new, 0 if it was stored before."""
    with session_scope(rt.engine) as session:
        return inbox.store(session, [received], utc_now())  # inbox times: the wall clock


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Receiver:
    """The webhook route: checks a request, stores its update, then answers 200.
    ``on_stored`` is called after a new update was committed (it wakes the inbox workers)."""

    rt: Runtime
    secret: str
    on_stored: Callable[[], None] = _nothing

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self.secret.encode("utf-8")
        ):
            return _answer(401, "wrong or missing secret token")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _answer(413, f"more than {MAX_BODY} bytes")
        try:
            body = await request.read()  # the application's client_max_size stops at MAX_BODY
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, f"more than {MAX_BODY} bytes")
        update = parse_update(body)
        if update is None:
            return _answer(400, "not a JSON update with an integer update_id")
        received = inbox.Received(update["update_id"], chat_key(update), update)
        try:
            stored = await self.rt.call(store_update, self.rt, received)
        except SQLAlchemyError as exc:  # not confirmed: Telegram delivers it again
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            log.warning("webhook: could not store update %s: %s", received.update_id, reason)
            return _answer(500, "the update could not be stored; deliver it again")
        if stored:
            RECEIVED.inc(stored)
            try:
                self.on_stored()
            except Exception:  # the update is stored; the workers find it on their next look
                log.exception("webhook: waking the inbox workers failed")
        return _answer(200, "ok")


def parse_update(body: bytes) -> dict[str, Any] | None:
    """The update in a request body, or None when it is not a JSON object with an integer
    ``update_id`` (NaN and Infinity refused: no database stores them as JSON)."""
    try:
        update = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        return None
    if not 0 <= update_id <= MAX_UPDATE_ID:
        return None
    return update


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _answer(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)


async def serve_webhook(
    app: App,
    secret: str,
    allowed_updates: list[str],
    *,
    stop: asyncio.Event | None = None,
    on_stored: Callable[[], None] = _nothing,
    address: tuple[str, int] | None = None,
) -> None:
    """Run the bot in webhook mode until SIGINT/SIGTERM (or until ``stop`` is set, when given):
    serve the webhook and the operations routes, initialise the application (retrying while
    the Bot API is unreachable), point Telegram at ``[telegram.webhook] public_url`` with the
    secret, and at the end stop the server first (no new update is accepted; requests in hand
    finish), then the application. The server starts before setWebhook, so Telegram's first
    delivery finds it listening, and /healthz answers while the Bot API is still awaited.
    ``address`` (host, port) overrides the configured one."""
    rt = app.bot_data.runtime
    hook = rt.settings.telegram.webhook
    if stop is None:
        stop = ops.stop_on_signals()

    def stored() -> None:  # wake the inbox workers: the update is theirs now
        workers = app.bot_data.workers
        if workers is not None:
            workers.wake()
        on_stored()

    receiver = Receiver(rt, secret, stored)
    web_app = ops.web_application(rt, app.bot, app.bot_data.sender, receiver)
    host, port = address or ops.listen_address(rt.settings) or (hook.listen, hook.port)
    server = await ops.start(web_app, host, port)
    log.info("webhook: listening on %s:%s/%s", host, server.port, hook.url_path.strip("/"))

    async def set_webhook() -> None:
        await app.bot.set_webhook(
            url=hook.public_url,
            secret_token=secret,
            allowed_updates=allowed_updates,
            max_connections=hook.max_connections,
        )

    try:
        if await polling.start_up(app, stop, last=(set_webhook, "setWebhook")):
            log.info("webhook set: Telegram posts updates to %s", hook.public_url)
            await app.start()
            workers = polling.start_workers(app)
            try:
                await stop.wait()
            finally:
                await server.stop()  # no new update; then the ones in hand finish
                await workers.stop(polling.STOP_GRACE)
                app.bot_data.workers = None
                await app.stop()
                if app.post_stop:
                    await app.post_stop(app)
    finally:
        await server.stop()
        await app.shutdown()
        await app.bot.shutdown()  # also when initialize never got through
        if app.post_shutdown:
            await app.post_shutdown(app)
