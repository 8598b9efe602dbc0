"""Polling that confirms updates only after they are stored in the inbox.

python-telegram-bot's Updater confirms a batch to Telegram (by asking with a higher offset) as
soon as it has fetched it, so a process killed before its handlers ran loses those updates.
Here each batch is committed to the inbox (``bot.store.inbox``; an update stored before stores
nothing) and only then does the offset move past it; the inbox workers
(``bot.delivery.inbox``) handle it, never this loop, so a slow handler never holds up the next
``getUpdates``. A crash before the commit means Telegram delivers the batch again.

Telegram lets one client poll a bot at a time (a second getUpdates gets 409 Conflict). With
several instances on one PostgreSQL database only the one holding the lease ``poller`` polls
(``standby``); the others wait and take over when it stops (at once after a clean stop, after
``[instances] poller_lease`` when it died). A 409 means another poller is about: back off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot import metrics
from bot.context import App
from bot.delivery.inbox import Workers
from bot.delivery.lease import LeaseKeeper, several_instances
from bot.runtime import utc_now
from bot.store import inbox
from bot.store.engine import session_scope
from models.updates import chat_key

log = logging.getLogger(__name__)
BACKOFF_START, BACKOFF_MAX = 1.0, 30.0
POLLER_LEASE = "poller"
STOP_GRACE = 5.0  # seconds the updates in hand may take to finish at a stop


async def standby(app: App, stop: asyncio.Event, timeout: int, allowed: list[str]) -> None:
    """Poll while this instance holds the lease ``poller``; wait while another does. On
    SQLite (one instance) poll without a lease."""
    rt = app.bot_data.runtime
    keeper = (
        LeaseKeeper(rt.engine, POLLER_LEASE, rt.instance, rt.settings.instances.poller_lease)
        if several_instances(rt.engine)
        else None
    )
    if keeper is not None:
        keeper.start()
    backoff = BACKOFF_START
    try:
        while not stop.is_set():
            if keeper is not None and not await _until_held(keeper, stop):
                break
            log.info("polling as %s", rt.instance)
            stop_polling = asyncio.Event()  # set when the lease is lost or the bot stops
            watch = asyncio.create_task(_until_lost(keeper, stop, stop_polling))
            try:
                await poll(app, stop_polling, timeout, allowed)
                backoff = BACKOFF_START
            except Conflict as exc:
                log.warning("another poller is active (%s); retrying in %.0f s", exc, backoff)
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            finally:
                watch.cancel()
            if keeper is not None and not stop.is_set() and not keeper.held:
                log.warning("stopped polling: the lease %s went to another instance", POLLER_LEASE)
    finally:
        if keeper is not None:
            await keeper.stop()


async def _until_held(keeper: LeaseKeeper, stop: asyncio.Event) -> bool:
    """Wait for the lease; False when the bot stops first."""
    if keeper.held:
        return True
    log.info("waiting for the lease %s (another instance polls)", POLLER_LEASE)
    held = asyncio.ensure_future(keeper.wait_held())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({held, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        held.cancel()
        stopping.cancel()
    return not stop.is_set()


async def _until_lost(keeper: LeaseKeeper | None, stop: asyncio.Event, done: asyncio.Event) -> None:
    waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait())}
    if keeper is not None:
        waits.add(asyncio.ensure_future(keeper.wait_lost()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        done.set()


async def poll(app: App, stop: asyncio.Event, timeout: int, allowed: list[str]) -> None:
    offset: int | None = None
    backoff = BACKOFF_START
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            app.bot.get_updates(
                offset=offset, timeout=timeout, allowed_updates=allowed, read_timeout=timeout + 10
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            break
        stopping.cancel()
        try:
            updates = fetch.result()
        except InvalidToken:
            raise
        except Conflict as exc:  # another instance polls this bot
            log.warning("getUpdates: %s; another instance polls, waiting %.0f s", exc, backoff)
            await _sleep(stop, backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            continue
        except RetryAfter as exc:
            wait: Any = exc.retry_after
            await _sleep(stop, wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
            continue
        except (NetworkError, TimedOut) as exc:
            log.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
            await _sleep(stop, backoff)
            backoff = min(backoff * 1.5, BACKOFF_MAX)
            continue
        backoff = BACKOFF_START
        if not updates:
            continue
        while True:  # committed before the offset moves, however long the database takes
            try:
                await store_updates(app, updates, "polling")
                break
            except Exception as exc:
                log.warning("cannot store %d updates yet (%s); trying again", len(updates), exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        backoff = BACKOFF_START
        offset = updates[-1].update_id + 1


async def store_updates(app: App, updates: tuple[Update, ...] | list[Update], mode: str) -> int:
    """Commit updates to the inbox and wake the workers; returns how many were new."""
    received = []
    for update in updates:
        payload = update.to_dict()
        received.append(inbox.Received(update.update_id, chat_key(payload), payload))
    rt = app.bot_data.runtime
    stored = await asyncio.to_thread(_store, rt.engine, received)
    metrics.UPDATES_RECEIVED.labels(mode).inc(stored)
    if app.bot_data.workers is not None:
        app.bot_data.workers.wake()
    return stored


def _store(engine: Any, received: list[inbox.Received]) -> int:
    with session_scope(engine) as session:
        return inbox.store(session, received, utc_now())


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run(
    app: App,
    timeout: int,
    allowed: list[str],
    stop: asyncio.Event | None = None,
) -> None:
    """Initialise, start the inbox workers (and, in post_init, the sender), poll until
    SIGINT/SIGTERM (or until ``stop`` is set, when given: then no signal handlers are
    installed, for a caller that runs the bot in its own event loop, such as the adapter
    tests), then stop: no more polling, the updates in hand finish (at most ``STOP_GRACE``
    seconds) and the claims of the others return to the inbox, the sender returns its
    unsent claims to the outbox. The same life cycle (post_init, post_shutdown) as
    ``Application.run_polling``."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    try:
        if await _start_up(app, stop):
            await app.start()
            workers = start_workers(app)
            try:
                await standby(app, stop, timeout, allowed)
            finally:
                await workers.stop(STOP_GRACE)
                app.bot_data.workers = None
                await app.stop()
                if app.post_stop:
                    await app.post_stop(app)
    finally:
        await app.shutdown()
        await app.bot.shutdown()  # also when initialize never got through
        if app.post_shutdown:
            await app.post_shutdown(app)


def start_workers(app: App) -> Workers:
    """Start the inbox workers as ``[inbox]`` says; they run until ``Workers.stop``."""
    settings = app.bot_data.runtime.settings.inbox
    workers = Workers(app, workers=settings.workers, max_tries=settings.max_tries)
    app.bot_data.workers = workers
    workers.start()
    return workers


async def _start_up(app: App, stop: asyncio.Event) -> bool:
    """Initialise (getMe), post_init and delete the webhook (polling and a webhook exclude
    each other), as ``start_up`` does."""

    async def delete_webhook() -> None:
        await app.bot.delete_webhook()

    return await start_up(app, stop, (delete_webhook, "deleteWebhook"))


async def start_up(
    app: App, stop: asyncio.Event, last: tuple[Callable[[], Awaitable[None]], str]
) -> bool:
    """Initialise (getMe), post_init, then the ``last`` step (its call and its name for the
    log: deleteWebhook when polling, setWebhook in webhook mode), each step retried with
    backoff while the Bot API is unreachable or failing (network errors, timeouts, 5xx, 429).
    A refused token is no such failure: InvalidToken goes up, and so does BadRequest. False
    when stopped before the end."""
    post_init = app.post_init

    async def run_post_init() -> None:
        if post_init:
            await post_init(app)

    for step, name in ((app.initialize, "getMe"), (run_post_init, "start-up calls"), last):
        if not await _until_done(step, name, stop):
            return False
    return True


async def _until_done(step: Callable[[], Awaitable[None]], name: str, stop: asyncio.Event) -> bool:
    backoff = BACKOFF_START
    while not stop.is_set():
        try:
            await step()
            return True
        except (InvalidToken, BadRequest):
            raise
        except RetryAfter as exc:
            wait: Any = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.warning("Bot API: %s rate-limited at start-up; retrying in %.0f s", name, seconds)
        except (NetworkError, TimedOut) as exc:
            seconds = backoff
            backoff = min(backoff * 2, BACKOFF_MAX)
            log.warning(
                "Bot API not reachable at start-up (%s: %s); retrying in %.0f s", name, exc, seconds
            )
        await _sleep(stop, seconds)
    return False
