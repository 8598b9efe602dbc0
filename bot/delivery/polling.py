"""Polling that confirms an update only after it was handled.

python-telegram-bot's Updater confirms a batch to Telegram (by asking with a higher offset) as
soon as it has fetched it, so a process killed before its handlers ran loses those updates:
the person's tap spins and nothing is stored. Here the offset moves past an update only after
``process_update`` returned, so a crash at any point means Telegram delivers the update again.
Handling an update twice is safe: a reply stores its update id (unique), and every other
handler only answers again.

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

from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.context import App
from bot.delivery.lease import LeaseKeeper, several_instances

log = logging.getLogger(__name__)
BACKOFF_START, BACKOFF_MAX = 1.0, 30.0
POLLER_LEASE = "poller"


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
        for update in updates:
            await app.process_update(update)  # handler errors go to the error handler
            offset = update.update_id + 1


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run(
    app: App,
    timeout: int,
    allowed: list[str],
    stop: asyncio.Event | None = None,
) -> None:
    """Initialise, start, poll until SIGINT/SIGTERM (or until ``stop`` is set, when given:
    then no signal handlers are installed, for a caller that runs the bot in its own event
    loop, such as the adapter tests), then stop cleanly: the same life cycle (post_init,
    post_shutdown) as ``Application.run_polling``."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    try:
        if await _start_up(app, stop):
            await app.start()
            try:
                await standby(app, stop, timeout, allowed)
            finally:
                await app.stop()
                if app.post_stop:
                    await app.post_stop(app)
    finally:
        await app.shutdown()
        await app.bot.shutdown()  # also when initialize never got through
        if app.post_shutdown:
            await app.post_shutdown(app)


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
