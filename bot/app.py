"""The composition root: settings, database and python-telegram-bot wired into one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import ApplicationBuilder
from telegram.request import HTTPXRequest

import handlers
from bot.context import CONTEXT_TYPES, App, Context, job_queue
from bot.delivery import inbox as inbox_workers
from bot.delivery import polling
from bot.delivery.bot_http import AiohttpRequest, SplitRequest
from bot.delivery.lease import LeaseKeeper, several_instances
from bot.delivery.pause import SharedPause
from bot.delivery.sender import SENDER_LEASE, PacedLimiter, Sender
from bot.runtime import Runtime
from bot.services import menus
from bot.store import migrate, org
from bot.store.engine import redact_url, session_scope
from bot.store.settings import BOT_USERNAME_SETTING, put_setting
from models.pacing import Pacer
from models.roles import Role
from scheduler import jobs

log = logging.getLogger(__name__)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


class StartupError(Exception):
    """The bot cannot start; the message says why and what to do."""


def prepare_database(rt: Runtime) -> None:
    """Refuse a schema newer than this code; bring an older one up to date if allowed."""
    try:
        state = migrate.schema_state(rt.engine)
    except SQLAlchemyError as exc:
        raise StartupError(database_unreachable(rt.settings.database.url, exc)) from None
    if state.newer_than_code:
        raise StartupError(migrate.newer_schema_message(state))
    if state.up_to_date:
        return
    if not rt.settings.database.auto_migrate:
        raise StartupError(
            f"the database {redact_url(rt.settings.database.url)} is at schema "
            f"{state.current or 'none'}, this execbot needs {state.head}: run `execbot db upgrade`"
        )
    log.info("upgrading database schema %s -> %s", state.current or "none", state.head)
    migrate.upgrade(rt.engine)


def database_unreachable(url: str, exc: SQLAlchemyError) -> str:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"cannot open the database {redact_url(url)}: {reason}"


CONNECTIONS = 32  # to the Bot API at once (the sender's sends, the taps' answers, ...)
POOL_WAIT = 30.0  # seconds a call may wait for one of them


def bot_api_request(connections: int = CONNECTIONS) -> SplitRequest:
    """The Bot API client: tap answers on their own aiohttp connections (``bot.delivery.
    bot_http``), the rest on python-telegram-bot's httpx client. httpcore looks at every idle
    connection of its pool (a poll and a getpeername each) on every request and response: with
    PTB's 256 connections a reply storm spent most of the event loop's time there. A smaller
    pool, and calls wait for a free connection rather than fail after PTB's 1 s."""
    default = HTTPXRequest(connection_pool_size=connections, pool_timeout=POOL_WAIT)
    return SplitRequest(default, AiohttpRequest())


def build_application(rt: Runtime, token: str) -> App:
    tg = rt.settings.telegram
    delivery = rt.settings.delivery
    pacer = Pacer(
        rate=delivery.rate,
        chat_interval=delivery.chat_interval.total_seconds(),
        margin=delivery.margin,
    )
    shared = SharedPause(rt.engine)  # a 429 seen by any instance holds every instance's sends
    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .job_queue(job_queue())
        .token(token)
        .base_url(tg.api_base_url)
        .base_file_url(tg.file_base_url)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .rate_limiter(PacedLimiter(pacer, shared))
        .request(bot_api_request())
        # No Updater: polling (bot.delivery.polling) and the webhook (bot.delivery.webhook)
        # confirm an update to Telegram only after it is handled or stored.
        .updater(None)
    )
    app = builder.build()
    # One instance at a time sends (the lease "sender"); on PostgreSQL messages are stored by
    # handlers on every instance, so the sender looks at the outbox often.
    keeper = (
        LeaseKeeper(rt.engine, SENDER_LEASE, rt.instance, rt.settings.instances.sender_lease)
        if several_instances(rt.engine)
        else None
    )
    sender = Sender(
        rt.engine,
        app.bot,
        clock=rt.clock,
        pacer=pacer,
        concurrency=delivery.concurrency,
        idle_poll=0.2 if rt.engine.dialect.name == "postgresql" else 1.0,
        keeper=keeper,
        shared=shared,
    )
    app.bot_data.wire(rt, sender)
    handlers.register(app)
    jobs.register(app)
    app.add_error_handler(_on_error)
    return app


async def _post_init(app: App) -> None:
    rt = app.bot_data.runtime
    me = await app.bot.get_me()
    log.info("connected as @%s (id %s)", me.username, me.id)
    if me.username:  # a bot always has one; invite links need it
        await rt.call(_remember_username, rt, me.username)
    await rt.call(_follow_plant_language, rt)
    # The default menu (a worker's commands in the plant's language) is set at every start,
    # before polling: its success is the end of the start-up that tests and the demo wait for.
    # Every other menu (per language, per leader's chat) follows in the background, only where
    # it changed (bot.services.menus).
    default = menus.commands(Role.WORKER, rt.settings.plant.language)
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in default])
    app.bot_data.sender_task = asyncio.create_task(app.bot_data.sender.run(), name="sender")
    menus.start_refresh(rt, app.bot)


async def _post_shutdown(app: App) -> None:
    task = app.bot_data.sender_task
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # the sender returns its unsent claims as it stops


async def _post_stop(app: App) -> None:
    # Before the bot's connections close: a menu call cut off there would leave the shutdown
    # waiting on it.
    await menus.stop_refreshes(app.bot)


def _follow_plant_language(rt: Runtime) -> None:
    with session_scope(rt.engine) as session:
        changed = org.follow_plant_language(session, rt.settings.plant.language, rt.clock())
    if changed:
        log.info("%d people now read %s, the plant's language", changed, rt.settings.plant.language)


def _remember_username(rt: Runtime, username: str) -> None:
    with session_scope(rt.engine) as session:
        put_setting(session, BOT_USERNAME_SETTING, username, rt.clock())


async def _on_error(update: object, context: Context) -> None:
    """A handler failed: the inbox worker handling the update tries it again later (and, after
    its last try, tells the person nothing was recorded)."""
    log.error("update handling failed", exc_info=context.error)
    inbox_workers.note_failure(context.error)


def _run(rt: Runtime, token: str) -> None:
    tg = rt.settings.telegram
    if tg.mode == "webhook":
        from bot import ops  # aiohttp's server: imported only where it is used
        from bot.delivery import webhook

        secret = check_webhook(rt)  # before anything else: never serve a webhook without it
        prepare_database(rt)
        app = build_application(rt, token)
        try:
            asyncio.run(webhook.serve_webhook(app, secret, ALLOWED_UPDATES))
        except ops.ServerError as exc:  # the port is taken, or not allowed
            raise StartupError(str(exc)) from None
    else:
        prepare_database(rt)
        app = build_application(rt, token)
        timeout = int(tg.poll_timeout.total_seconds())
        asyncio.run(_poll_with_ops(app, timeout))


async def _poll_with_ops(app: App, timeout: int) -> None:
    """Polling mode, with /healthz, /readyz and /metrics on ``[server]`` when a port is set."""
    from bot import ops  # aiohttp's server: imported only where it is used

    try:
        async with ops.serving(app):
            await polling.run(app, timeout, ALLOWED_UPDATES)
    except ops.ServerError as exc:
        raise StartupError(str(exc)) from None


def check_webhook(rt: Runtime) -> str:
    """The webhook secret, once webhook mode's settings are known to be complete."""
    from bot import ops
    from bot.delivery import webhook

    hook = rt.settings.telegram.webhook
    try:
        secret = webhook.secret_from_env(hook)
        ops.listen_address(rt.settings)
    except (webhook.SecretError, ops.ServerError) as exc:
        raise StartupError(str(exc)) from None
    if not hook.public_url:
        raise StartupError(
            "webhook mode needs [telegram.webhook] public_url: the HTTPS URL Telegram posts "
            f"updates to, which your reverse proxy forwards to http://{hook.listen}:{hook.port}"
            f"/{hook.url_path.strip('/')}"
        )
    return secret


def run(rt: Runtime, token: str) -> None:
    """Start the bot in polling or webhook mode; returns when stopped (SIGINT/SIGTERM)."""
    try:
        _run(rt, token)
    except InvalidToken as exc:
        # PTB's message repeats the token; say what went wrong without it.
        tg = rt.settings.telegram
        raise StartupError(
            f"the Bot API at {tg.api_base_url} refused the bot token in ${tg.token_env} "
            f"({exc.__cause__ or exc}): check the token with @BotFather, and [telegram] "
            "api_base_url"
        ) from None
    except NetworkError as exc:  # an unreachable Bot API is waited for; this is a refusal
        raise StartupError(
            f"the Bot API at {rt.settings.telegram.api_base_url} failed at start-up: {exc}"
        ) from None
