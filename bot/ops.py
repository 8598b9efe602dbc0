"""Operations routes: ``/healthz``, ``/readyz`` and ``/metrics``, and the aiohttp server that
serves them (with the webhook route in webhook mode, ``bot.delivery.webhook``).

- ``/healthz``: 200 while the process runs (its event loop answers).
- ``/readyz``: 200 when the database answers, its schema is the one this code needs, and the
  Bot API answered getMe recently; otherwise 503. The body is JSON naming each check and, for
  a failed one, why. Each check runs at most once at a time and its answer is reused for a
  few seconds, so a load balancer polling every second costs one getMe per ``BOT_API_EVERY``.
- ``/metrics``: Prometheus text: the counters and histograms of ``bot.metrics.REGISTRY``,
  plus figures read from the database at scrape time (inbox and outbox depth per state, the
  age of the oldest waiting update and message, dead updates and messages), the same on every
  instance, and the outcomes of this process's sender (``Sender.stats``: sent, retried, given
  up, skipped).

Where: in webhook mode on ``[telegram.webhook] listen/port`` beside the webhook; in polling
mode on ``[server] listen/port`` (port 0: not served). ``EXECBOT_SERVER_PORT`` overrides the
port of whichever server runs (a systemd template unit runs one instance per port).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot

from bot.config import Settings
from bot.delivery.sender import Sender
from bot.logs import without_secrets
from bot.metrics import REGISTRY
from bot.runtime import Runtime
from bot.store import inbox, migrate, outbox
from bot.store.engine import session_scope
from models.status import OutboxState

if TYPE_CHECKING:
    from bot.context import App
    from bot.delivery.webhook import Receiver

log = logging.getLogger(__name__)

PORT_ENV = "EXECBOT_SERVER_PORT"
CHECK_TIMEOUT = 3.0  # seconds a readiness check may take before it counts as failed
DATABASE_EVERY = 1.0  # seconds a database check's answer is reused
BOT_API_EVERY = 5.0  # seconds a getMe answer is reused
SHUTDOWN_TIMEOUT = 5.0  # seconds requests in hand may take to finish when the server stops
MAX_BODY = 1024 * 1024  # request bodies: an update is a few kilobytes; larger is no update of ours
INBOX_STATES = (inbox.PENDING, inbox.HANDLING, inbox.DONE, inbox.DEAD)


class ServerError(Exception):
    """The server cannot listen; the message says where and why."""


# --- where -------------------------------------------------------------------------------


def listen_address(
    settings: Settings, environ: Mapping[str, str] = os.environ
) -> tuple[str, int] | None:
    """(host, port) of the server this mode runs: the webhook's in webhook mode, else
    ``[server]``'s; ``EXECBOT_SERVER_PORT`` overrides the port. None: no server (polling
    mode with port 0)."""
    webhook = settings.telegram.mode == "webhook"
    hook, server = settings.telegram.webhook, settings.server
    host, port = (hook.listen, hook.port) if webhook else (server.listen, server.port)
    text = environ.get(PORT_ENV, "").strip()
    if text:
        if not text.isdigit() or not 0 <= int(text) <= 65535:
            raise ServerError(f"{PORT_ENV} must be a port number (0-65535), got {text!r}")
        port = int(text)
    if port == 0:
        if webhook:
            raise ServerError(f"webhook mode needs a port to listen on, and {PORT_ENV} is 0")
        return None
    return host, port


# --- serving -------------------------------------------------------------------------------


@dataclass
class Server:
    runner: web.AppRunner
    port: int  # the port bound (the one asked for, or the one the system chose for 0)
    stopped: bool = False

    async def stop(self) -> None:
        """Stop accepting connections, let requests in hand finish (``SHUTDOWN_TIMEOUT``),
        then close. Stopping twice does nothing."""
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


async def start(web_app: web.Application, host: str, port: int) -> Server:
    """Serve ``web_app`` on host:port (0: a free port) until :meth:`Server.stop`."""
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = runner.addresses[0][1] if runner.addresses else port
    return Server(runner, int(bound))


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[Server | None]:
    """The operations server of polling mode (``[server]``) around a block; None (and no
    server) when no port is configured. For the composition root:
    ``async with ops.serving(app): await polling.run(...)``."""
    rt = app.bot_data.runtime
    address = listen_address(rt.settings)
    if address is None:
        yield None
        return
    server = await start(web_application(rt, app.bot, app.bot_data.sender), *address)
    log.info("operations server on %s:%s", address[0], server.port)
    try:
        yield server
    finally:
        await server.stop()


async def serve_ops(app: App, stop: asyncio.Event) -> None:
    """Serve the operations routes of polling mode until ``stop`` is set (nothing to serve:
    return at once)."""
    async with serving(app) as server:
        if server is not None:
            await stop.wait()


def web_application(
    rt: Runtime, bot: Bot, sender: Sender | None = None, receiver: Receiver | None = None
) -> web.Application:
    """The aiohttp application of a mode: the operations routes, and with a ``receiver``
    (webhook mode) the webhook route at ``/<[telegram.webhook] url_path>``."""
    web_app = web.Application(client_max_size=MAX_BODY)
    routes = Routes(rt, Readiness(rt, bot), scrape_registry(rt, sender))
    web_app.router.add_get("/healthz", routes.healthz)
    web_app.router.add_get("/readyz", routes.readyz)
    web_app.router.add_get("/metrics", routes.metrics)
    if receiver is not None:
        path = "/" + rt.settings.telegram.webhook.url_path.strip("/")
        web_app.router.add_post(path, receiver.receive)
    return web_app


@dataclass(frozen=True, slots=True)
class Routes:
    rt: Runtime
    readiness: Readiness
    scraped: CollectorRegistry

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(self, _request: web.Request) -> web.Response:
        checks = await self.readiness.checks()
        ready = all(value == "ok" for value in checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        body = await self.rt.call(exposition, self.scraped)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def exposition(scraped: CollectorRegistry) -> bytes:
    """The process's metrics, then the figures read now (in a worker thread: it queries)."""
    return generate_latest(REGISTRY) + generate_latest(scraped)


# --- readiness -----------------------------------------------------------------------------


class Probe:
    """One check: at most one run under way at a time, its answer reused for ``every``
    seconds, and a run that takes longer than ``timeout`` answered with ``late`` (it goes on,
    and a later request takes its answer)."""

    def __init__(
        self,
        run: Callable[[], Awaitable[dict[str, str]]],
        every: float,
        timeout: float,
        late: dict[str, str],
    ) -> None:
        self.run, self.every, self.timeout, self.late = run, every, timeout, late
        self._answer: dict[str, str] | None = None
        self._at = 0.0
        self._task: asyncio.Future[dict[str, str]] | None = None

    async def answer(self) -> dict[str, str]:
        if self._answer is not None and time.monotonic() - self._at < self.every:
            return self._answer
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.run())
        try:
            answer = await asyncio.wait_for(asyncio.shield(self._task), self.timeout)
        except TimeoutError:
            answer = self.late
        self._answer, self._at = answer, time.monotonic()
        return answer


class Readiness:
    """The checks of ``/readyz``: database, schema, bot_api; each "ok" or why not."""

    def __init__(self, rt: Runtime, bot: Bot, *, timeout: float = CHECK_TIMEOUT) -> None:
        self.rt, self.bot, self.timeout = rt, bot, timeout
        self._head: str | None = None
        late = f"no answer within {timeout:g} s"
        self.database = Probe(
            self._database, DATABASE_EVERY, timeout, {"database": late, "schema": "unknown"}
        )
        self.bot_api = Probe(self._bot_api, BOT_API_EVERY, timeout, {"bot_api": late})

    async def checks(self) -> dict[str, str]:
        database, bot_api = await asyncio.gather(self.database.answer(), self.bot_api.answer())
        return {**database, **bot_api}

    async def _database(self) -> dict[str, str]:
        try:
            if self._head is None:  # reading the migration scripts takes 0.1 s: once
                self._head = await self.rt.call(migrate.head_revision)
            current = await self.rt.call(migrate.current_revision, self.rt.engine)
        except Exception as exc:  # any failure to answer means: not ready, and why
            return {"database": _reason(exc), "schema": "unknown"}
        if current == self._head:
            return {"database": "ok", "schema": "ok"}
        return {
            "database": "ok",
            "schema": f"at {current or 'none'}, this execbot needs {self._head}",
        }

    async def _bot_api(self) -> dict[str, str]:
        limit = self.timeout
        try:
            await self.bot.get_me(
                read_timeout=limit, write_timeout=limit, connect_timeout=limit, pool_timeout=limit
            )
        except Exception as exc:  # any failure to answer means: not ready, and why
            return {"bot_api": f"getMe failed: {_reason(exc)}"}
        return {"bot_api": "ok"}


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return without_secrets(first)[:300]


# --- metrics read at scrape time -----------------------------------------------------------


def scrape_registry(rt: Runtime, sender: Sender | None) -> CollectorRegistry:
    """A registry holding the collector of this server (registered once, when the server's
    application is built): ``/metrics`` renders it after ``bot.metrics.REGISTRY``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(rt, sender))
    return registry


@dataclass(frozen=True, slots=True)
class QueueFigures:
    inbox: dict[str, int]
    inbox_oldest: datetime | None
    outbox: dict[str, int]
    outbox_oldest: datetime | None


def queue_figures(rt: Runtime) -> QueueFigures:
    with session_scope(rt.engine) as session:
        return QueueFigures(
            inbox.counts(session),
            inbox.oldest_pending(session),
            outbox.outbox_counts(session),
            outbox.oldest_pending(session),
        )


class QueueCollector(Collector):
    """Figures read from the database when ``/metrics`` is scraped, and the sender's counts."""

    def __init__(self, rt: Runtime, sender: Sender | None) -> None:
        self.rt, self.sender = rt, sender

    def describe(self) -> list[Metric]:
        return []  # families are known only by collecting, which queries: nothing at register

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "execbot_database_up", "1 when this scrape's queries answered, else 0."
        )
        try:
            figures = queue_figures(self.rt)
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer: %s", _reason(exc))
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield from self._queues(figures, self.rt.clock())
        if self.sender is not None:
            yield from self._sender()

    def _queues(self, figures: QueueFigures, now: datetime) -> Iterator[Metric]:
        updates = GaugeMetricFamily(
            "execbot_inbox_updates", "Updates in the inbox, by state.", labels=["state"]
        )
        for state in _states(INBOX_STATES, figures.inbox):
            updates.add_metric([state], figures.inbox.get(state, 0))
        yield updates
        yield _gauge(
            "execbot_inbox_oldest_unhandled_age_seconds",
            "Age of the oldest update not yet handled (pending or being handled); 0 if none.",
            _age(figures.inbox_oldest, now),
        )
        yield _gauge(
            "execbot_inbox_dead_updates",
            "Updates given up after their last try (see `execbot doctor`).",
            figures.inbox.get(inbox.DEAD, 0),
        )
        messages = GaugeMetricFamily(
            "execbot_outbox_messages", "Messages in the outbox, by state.", labels=["state"]
        )
        for state in _states(tuple(str(s) for s in OutboxState), figures.outbox):
            messages.add_metric([state], figures.outbox.get(state, 0))
        yield messages
        yield _gauge(
            "execbot_outbox_oldest_pending_age_seconds",
            "Age of the oldest message not yet sent (pending or being sent); 0 if none.",
            _age(figures.outbox_oldest, now),
        )
        yield _gauge(
            "execbot_outbox_dead_messages",
            "Messages given up (`execbot outbox --dead`).",
            figures.outbox.get(OutboxState.DEAD, 0),
        )

    def _sender(self) -> Iterator[Metric]:
        assert self.sender is not None
        stats = self.sender.stats
        outcomes = CounterMetricFamily(
            "execbot_sender_messages",
            "Outbox messages this process's sender finished, by outcome.",
            labels=["outcome"],
        )
        for outcome in ("sent", "retried", "given_up", "skipped"):
            outcomes.add_metric([outcome], getattr(stats, outcome))
        yield outcomes  # 429s: execbot_rate_limited_total (bot.metrics), for handlers too


def _states(known: tuple[str, ...], counted: dict[str, int]) -> list[str]:
    return [*known, *sorted(set(counted) - set(known))]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(oldest: datetime | None, now: datetime) -> float:
    return 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
