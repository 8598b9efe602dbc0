"""Adapter harness: the real bot (handlers, polling, sender) and the sandbox in the test's own
event loop, talking HTTP over 127.0.0.1, with a fresh SQLite file and a clock the test moves.

What is real: the sandbox's aiohttp server (``sandbox.server.SandboxServer``), the composition
root (``bot.app.build_application``), the custom polling loop (``bot.delivery.polling.run``, which
confirms an update once it is stored in the inbox), the inbox workers that handle it, the
sender task started by ``post_init`` (which sends every answer: handlers queue them), and every
person action, sent through the sandbox's person API (``AsyncSandboxClient``). What differs
from ``execbot run``: the clock is a :class:`FakeClock`; APScheduler runs nothing (the start-up
job is removed): a test runs a periodic pass with :meth:`Harness.run_pass`, at the fake clock;
and unless ``paced``, the sandbox has no flood limits and the bot paces nothing
(``[delivery] rate = 0``, a ``chat_interval`` of zero, which only code can set: the file takes
whole seconds, and no pause for the sender's first second), so a handler's second message to a
chat does not wait a second. The sender test runs paced, as the product does.

Processes cost about a second of imports each; here a test starts in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from telegram.ext import CallbackContext

from bot import config
from bot.app import ALLOWED_UPDATES, build_application
from bot.context import App
from bot.delivery import polling
from bot.delivery.sender import Sender
from bot.runtime import Runtime
from bot.services import onboarding, org_import
from bot.store.engine import make_engine
from models.tables import InboxUpdate, Outbox, Person
from sandbox.client import AsyncSandboxClient
from sandbox.server import DEFAULT_TOKEN, SandboxServer
from scheduler import jobs

T = TypeVar("T")
# Seconds a wait gives up after: everything here is local and in one process, but CI runs
# eight workers and the end-to-end processes on two cores (a Tuesday nudge once took over 10 s
# there). A passing test never waits this long; only a failing one does.
WAIT = 20.0
POLL = 0.02

BASE_CONFIG = """
[telegram]
poll_timeout = "10s"
[nudges]
tick = "1h"
plan_every = "1h"
"""


class FakeClock:
    """The bot's clock: stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self.now += delta if delta is not None else timedelta(**parts)
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.astimezone(UTC)


@dataclass
class RunningBot:
    """One ``execbot run`` as a task: ``stop`` is SIGTERM, ``crash`` is SIGKILL (the task is
    cancelled wherever it is, mid-update included)."""

    app: App
    task: asyncio.Task[None]
    stopping: asyncio.Event

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.wait_for(asyncio.shield(self.task), WAIT)

    async def crash(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class _Errors(logging.Handler):
    """Collects the log records of updates whose handling failed (``bot.app._on_error``)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    root: Path
    server: SandboxServer
    people: AsyncSandboxClient
    engine: Engine
    clock: FakeClock
    settings: config.Settings
    bots: list[RunningBot] = field(default_factory=list)
    errors: _Errors = field(default_factory=_Errors)
    paced: bool = False
    expect_errors: bool = False  # a test that makes a handler fail on purpose sets this

    @property
    def runtime(self) -> Runtime:
        return Runtime(self.settings, self.engine, self.clock)

    @property
    def bot(self) -> RunningBot:
        return self.bots[-1]

    # --- the bot ------------------------------------------------------------------------

    async def start_bot(self) -> RunningBot:
        """Build the application as ``execbot run`` does and run the polling loop until it has
        started (post_init done, the sender task running, the application started)."""
        app = build_application(self.runtime, DEFAULT_TOKEN)
        assert app.job_queue is not None
        app.job_queue.scheduler.remove_all_jobs()  # passes run when the test says so
        stopping = asyncio.Event()
        timeout = int(self.settings.telegram.poll_timeout.total_seconds())
        task = asyncio.create_task(polling.run(app, timeout, ALLOWED_UPDATES, stopping))
        bot = RunningBot(app, task, stopping)
        self.bots.append(bot)
        await self.wait("the bot to start", lambda: app.running or task.done())
        if task.done():
            task.result()  # raises what stopped it
        if not self.paced:
            # The sender holds every send for its first second (a predecessor process may
            # have sent in the last one); here there is none, and no limit to keep.
            sender: Sender = app.bot_data.sender
            await self.wait("the sender to start", lambda: sender.pacer._paused_until > 0)
            sender.pacer._paused_until = 0.0
        return bot

    async def run_pass(self, *names: str) -> None:
        """Run periodic passes (``plan``, ``nudges``, ``escalation``, ``reports``, ``dead``)
        once, now at the fake clock, as the job queue would."""
        table = {name: run for run, _, name in jobs.passes(self.settings.nudges)}
        context = CallbackContext(self.bot.app)
        for name in names:
            await table[name](context)

    async def settle(self) -> None:
        """Until the bot has taken every update the sandbox holds for it (polling confirms an
        update once it is stored in the inbox), handled every stored update, and sent every
        message its handlers queued that is due now."""
        queue = self.server.sandbox.bot().updates
        await self.wait("the bot to take every update", lambda: not queue.items)
        await self.wait("the bot to handle every update and send its answers", self._quiet)

    def _quiet(self) -> bool:
        now = self.clock()
        with Session(self.engine) as session:
            waiting = session.execute(
                select(func.count())
                .select_from(InboxUpdate)
                .where(col(InboxUpdate.state).in_(("pending", "handling")))
            ).scalar_one()
            unsent = session.execute(
                select(func.count())
                .select_from(Outbox)
                .where(
                    (col(Outbox.state) == "sending")
                    | ((col(Outbox.state) == "pending") & (col(Outbox.next_attempt_at) <= now))
                )
            ).scalar_one()
        return not waiting and not unsent

    def push_message(self, person_id: int, **content: Any) -> int:
        """A message of a kind the person API cannot send (a sticker, a location), queued for
        the bot as Telegram would deliver it in the person's private chat; its update id."""
        sandbox = self.server.sandbox
        bot, person = sandbox.bot(), sandbox.people[person_id]
        chat = bot.chat(person_id)
        assert chat is not None, f"{person_id} has no chat with the bot"
        payload = {"message_id": chat.new_message_id(), "from": person.user, "chat": chat.api}
        update = bot.updates.push("message", {**payload, "date": sandbox.now(), **content})
        assert update is not None
        return int(update["update_id"])

    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self.server.sandbox.bot().updates.items)

    # --- arranging the org ---------------------------------------------------------------

    def import_org(self, toml: str) -> None:
        path = self.root / "org.toml"
        path.write_text(toml)
        result = org_import.import_org(
            self.engine,
            [path],
            self.clock(),
            dry_run=False,
            policies=self.settings.escalation.policies,
        )
        assert result.written and not result.problems, result.report()

    async def bind(self, chats: dict[str, int]) -> None:
        """People (by key) already joined: bound to these Telegram ids, their chat open in the
        sandbox. Onboarding itself is the /start test's business."""
        for key, chat in chats.items():
            await self.people.create_person(key, id=chat, started=True)
        with Session(self.engine) as session:
            for key, chat in chats.items():
                session.execute(
                    update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
                )
            session.commit()

    def invite_code(self, key: str) -> str:
        [issued] = onboarding.issue_invites(
            self.engine,
            [key],
            all_pending=False,
            bot_username=self.server.sandbox.bot().username,
            ttl=self.settings.invites.ttl,
            now=self.clock(),
        )
        return issued.link.split("=", 1)[1]

    # --- what the people see ----------------------------------------------------------------

    async def wait(self, what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
        """Call ``probe`` until it gives something true, and return that."""

        async def call() -> T | None:
            return probe()

        return await self.until(what, call, timeout)

    async def until(
        self, what: str, probe: Callable[[], Awaitable[T | None]], timeout: float = WAIT
    ) -> T:
        """Await ``probe`` until it gives something true, and return that."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await probe()
            if value:
                return value
            for bot in self.bots:
                if bot.task.done() and not bot.task.cancelled() and bot.task.exception():
                    raise AssertionError(f"the bot stopped while waiting for {what}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(POLL)

    async def messages(self, chat: int) -> list[dict[str, Any]]:
        """The bot's messages in the chat, in their current (edited) state."""
        entries = await self.people.transcript(chat)
        return [e for e in entries if e.get("kind") == "message" and e["from"] == "bot"]

    async def texts(self, chat: int) -> list[str]:
        return [m["text"] or "" for m in await self.messages(chat)]

    async def toasts(self, chat: int) -> list[str]:
        entries = await self.people.transcript(chat)
        return [e.get("text") or "" for e in entries if e["kind"] == "callback_answer"]

    async def last_id(self, chat: int) -> int:
        entries = await self.people.transcript(chat)
        return max((e["message_id"] for e in entries if "message_id" in e), default=0)

    async def message(self, chat: int, pattern: str, after: int = 0) -> dict[str, Any]:
        """The first bot message in the chat above id ``after`` matching ``pattern``."""

        async def probe() -> dict[str, Any] | None:
            for m in await self.messages(chat):
                if m["message_id"] > after and re.search(pattern, m["text"] or ""):
                    return m
            return None

        return await self.until(f"{pattern!r} in chat {chat}", probe)

    async def toast(self, chat: int, pattern: str, seen: int = 0) -> str:
        """The first tap answer in the chat after the first ``seen`` that matches."""

        async def probe() -> str | None:
            return next(
                (t for t in (await self.toasts(chat))[seen:] if re.search(pattern, t)), None
            )

        return await self.until(f"toast {pattern!r} in chat {chat}", probe)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session


def settings_for(server: SandboxServer, db_url: str, extra: str, *, paced: bool) -> config.Settings:
    raw: dict[str, Any] = tomllib.loads(BASE_CONFIG)
    _merge(raw, tomllib.loads(extra))
    if not paced:
        raw.setdefault("delivery", {}).update(rate=0, chat_interval=timedelta(0))
    raw["telegram"].update(api_base_url=server.api_base, file_base_url=server.file_base)
    raw.setdefault("database", {})["url"] = db_url
    return config.parse(raw, source="adapter test config")


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@asynccontextmanager
async def harness(
    root: Path,
    template: Path,
    start: datetime,
    *,
    config_extra: str = "",
    paced: bool = False,
    latency: tuple[float, float] = (0.0, 0.0),
) -> AsyncIterator[Harness]:
    """A sandbox on a free port (with Telegram's flood limits if ``paced``), a copy of the
    migrated ``template`` database and settings pointing at both; the bot is started by
    :meth:`Harness.start_bot`. On exit every bot is stopped (cleanly) before the sandbox."""
    db = root / "execbot.db"
    shutil.copyfile(template, db)
    errors = _Errors()
    app_log = logging.getLogger("bot.app")
    app_log.addHandler(errors)
    async with SandboxServer(limits=paced, latency=latency) as server:
        engine = make_engine(f"sqlite:///{db}")
        settings = settings_for(server, f"sqlite:///{db}", config_extra, paced=paced)
        people = AsyncSandboxClient(server.url)
        h = Harness(
            root, server, people, engine, FakeClock(start), settings, errors=errors, paced=paced
        )
        try:
            yield h
        finally:
            for bot in h.bots:
                if not bot.task.done():
                    await bot.stop()
            for sandbox_bot in server.sandbox.bots.values():  # no half-second wait at exit
                sandbox_bot.updates.abort_long_poll("the test is over")
            await people.close()
            engine.dispose()
            app_log.removeHandler(errors)
