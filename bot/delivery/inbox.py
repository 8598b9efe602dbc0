"""The inbox workers: they handle stored updates concurrently across chats, in order within one.

One loop does all the inbox bookkeeping, each round in one transaction: it records the outcomes
of the updates handled since the last round (done, or failed: tried again after 1 s, 2 s, 4 s
... or kept as dead after ``max_tries``), renews this instance's claims, returns claims a dead
instance left behind, and claims as many due updates as there are free worker slots (the store
gives at most one per chat: a chat's next update waits until its earlier one is recorded). Each
claimed update runs as its own task through ``Application.process_update``. The loop wakes as
soon as an update is handled or a new one is stored, otherwise it looks again every
``idle_poll`` seconds (another instance may have stored updates).

python-telegram-bot hands a handler's exception to the error handler instead of raising it
from ``process_update``; ``bot.app``'s error handler calls :func:`note_failure`, which marks the
update being handled in this task (a context variable), so the worker knows it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Update

from bot import metrics
from bot.context import App
from bot.render import texts
from bot.runtime import utc_now
from bot.services import outgoing
from bot.store import inbox, outbox
from bot.store.engine import session_scope
from models.tables import Outbox
from models.updates import Kind, kind

log = logging.getLogger(__name__)

BACKOFF_START, BACKOFF_MAX = 1.0, 60.0  # seconds before the next try of a failed update
# A claim not renewed for this long belongs to a dead instance (renewed every quarter of it):
# short, so that a killed instance's taps are taken over and answered within Telegram's 15 s.
LEASE = timedelta(seconds=8)
MAX_PAUSE = 5.0  # seconds between tries while the database refuses the bookkeeping
# Handled updates are kept this long (Telegram redelivers an update for at most a day, so an
# update seen again within it still stores nothing), and pruned this often.
KEEP_HANDLED, PRUNE_EVERY = timedelta(days=2), 600.0
ANSWERS_PER_WORKER = 4  # answers under way per worker before they start taking slots
# Bookkeeping rounds come at most this often: each is a write transaction, and in a reply
# storm a round per handled update made the workers' commits queue behind the rounds (on
# SQLite writers take turns). A round records every outcome since the last one and claims
# for every free slot, so a short gap costs an update at most this much.
ROUND_GAP = 0.02


@dataclass(slots=True)
class Handling:
    """The update this task is handling: what kind, since when, and what went wrong."""

    kind: Kind
    started: float
    errors: list[BaseException] = field(default_factory=list)
    answered: bool = False
    answering: asyncio.Task[None] | None = None  # the tap's answer, sent in its own task


CURRENT: ContextVar[Handling | None] = ContextVar("execbot_inbox_handling", default=None)


def note_failure(error: BaseException | None) -> None:
    """The handler of the current update failed (called by the application's error handler)."""
    handling = CURRENT.get()
    if handling is not None:
        handling.errors.append(error or RuntimeError("handler failed"))


def tap_answered() -> None:
    """The current tap was answered: observe how long it took from its claim."""
    handling = CURRENT.get()
    if handling is not None and handling.kind is Kind.TAP and not handling.answered:
        handling.answered = True
        elapsed = asyncio.get_running_loop().time() - handling.started
        metrics.TAP_ANSWER_SECONDS.observe(elapsed)


async def answer_soon(answer: Coroutine[Any, Any, None]) -> None:
    """Send a tap's answer in its own task, so the worker's slot is not held while the Bot API
    takes its 100-300 ms: the handler goes on (queues its follow-ups) and the worker takes the
    next update. The update is recorded as done only when the answer call has returned (a
    failed call fails the update, as before), and until then it stays ``handling``, so the
    chat's next update waits for it and a crash hands the update out again (its reply is
    stored once; the second answer may come too late for Telegram). Outside a worker (no
    update being handled) the answer is awaited here."""
    handling = CURRENT.get()
    if handling is None or handling.answering is not None:
        await answer
        return
    handling.answering = asyncio.create_task(answer, name="tap-answer")


def retry_delay(tries: int) -> float:
    """Seconds before the next try after ``tries`` failed ones: 1, 2, 4, ... at most a minute."""
    return float(min(BACKOFF_START * 2 ** max(tries - 1, 0), BACKOFF_MAX))


def ensure_threads(count: int) -> None:
    """Give the running loop's default executor (``asyncio.to_thread``) at least ``count``
    threads: its default, min(32, cpus + 4), would queue the workers' queries behind each
    other."""
    loop = asyncio.get_running_loop()
    current: int = getattr(loop, "_execbot_threads", 0)
    if current < count:
        loop.set_default_executor(ThreadPoolExecutor(count, thread_name_prefix="execbot"))
        loop._execbot_threads = count  # type: ignore[attr-defined]


@dataclass(slots=True)
class _Outcomes:
    done: list[int] = field(default_factory=list)
    failed: list[tuple[inbox.Claimed, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.done or self.failed)

    def extend(self, other: _Outcomes) -> None:
        self.done += other.done
        self.failed += other.failed


class Workers:
    def __init__(
        self,
        app: App,
        *,
        workers: int = 16,
        max_tries: int = 5,
        lease: timedelta = LEASE,
        idle_poll: float | None = None,
        round_gap: float = ROUND_GAP,
    ) -> None:
        self.app = app
        self.rt = app.bot_data.runtime
        self.engine, self.holder = self.rt.engine, self.rt.instance
        self.workers, self.max_tries, self.lease = workers, max_tries, lease
        self.round_gap = round_gap
        sqlite = self.engine.dialect.name == "sqlite"
        self.idle_poll = idle_poll if idle_poll is not None else (1.0 if sqlite else 0.25)
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: dict[int, asyncio.Task[None]] = {}  # inbox id -> its handling
        # inbox id -> its handling, over but for its tap's answer, still under way
        self._answering: dict[int, asyncio.Task[None]] = {}
        self._outcomes = _Outcomes()  # handled, not yet recorded
        self._renewed = 0.0
        self._swept = 0.0
        self._pruned = 0.0
        self.handled = 0  # updates handled without error by this instance
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Run the claim loop as a task (stopped by :meth:`stop`)."""
        self._loop_task = asyncio.create_task(self.run(), name="inbox-workers")
        return self._loop_task

    def wake(self) -> None:
        """New updates were stored, or one was handled: look at the inbox now."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and handle until :meth:`stop` (or cancelled)."""
        ensure_threads(self.workers + 16)
        if self.engine.dialect.name == "sqlite":  # one instance: every claim left is a dead one
            released = await asyncio.to_thread(self._release_all)
            if released:
                log.warning("returned %d unfinished updates to the inbox", released)
        failures = 0
        loop = asyncio.get_running_loop()
        last = -ROUND_GAP
        while not self._stopping:
            gap = last + self.round_gap - loop.time()
            if gap > 0:
                await asyncio.sleep(gap)  # the outcomes and wake-ups of the gap: one round
            last = loop.time()
            self._wake.clear()
            try:
                claimed = await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures = min(failures + 1, 10)
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning("inbox bookkeeping failed (%s); trying again", first)
                await self._pause(min(0.1 * 2**failures, MAX_PAUSE))
                continue
            failures = 0
            if self._stopping:
                break  # claimed as the stop came: released with this instance's other claims
            for row in claimed:
                self._start(row)
            if not claimed or len(self._tasks) >= self.workers:
                await self._pause(self.idle_poll)

    async def stop(self, grace: float = 5.0) -> None:
        """Claim nothing more, let the updates in hand finish (at most ``grace`` seconds),
        record their outcomes and return the claims of those that did not finish."""
        self._stopping = True
        self._wake.set()
        tasks = list(self._tasks.values()) + list(self._answering.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("stopped %d updates in hand; they will be handled again", len(pending))
                await asyncio.wait(pending, timeout=1.0)
        if self._loop_task is not None and not self._loop_task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._loop_task), 2.0)
            except TimeoutError:
                self._loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._loop_task
            except Exception:
                log.exception("the inbox loop failed")
        outcomes, self._outcomes = self._outcomes, _Outcomes()
        try:
            await asyncio.to_thread(self._finish_round, outcomes)
        except Exception:
            log.warning("could not record the last outcomes; those updates come again")
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._release_mine)

    # --- the bookkeeping round ------------------------------------------------------------

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _round(self) -> list[inbox.Claimed]:
        outcomes, self._outcomes = self._outcomes, _Outcomes()
        # answers under way take no slot, unless they pile up (a slow Bot API)
        piled = max(0, len(self._answering) - ANSWERS_PER_WORKER * self.workers)
        free = 0 if self._stopping else self.workers - len(self._tasks) - piled
        held = sorted([*self._tasks, *self._answering])
        try:
            return await asyncio.to_thread(self._bookkeep, outcomes, held, free)
        except BaseException:
            outcomes.extend(self._outcomes)
            self._outcomes = outcomes
            raise

    def _bookkeep(self, outcomes: _Outcomes, held: list[int], free: int) -> list[inbox.Claimed]:
        now = utc_now()
        loop_now = now.timestamp()
        with session_scope(self.engine) as session:
            self._record(session, outcomes, now)
            if loop_now - self._renewed >= self.lease.total_seconds() / 4:
                if held:
                    inbox.renew(session, held, now)
                self._renewed = loop_now
            if loop_now - self._swept >= self.lease.total_seconds() / 4:
                released = inbox.release(session, claimed_before=now - self.lease)
                if released:
                    log.warning("took back %d updates a stopped instance held", released)
                self._swept = loop_now
            if loop_now - self._pruned >= PRUNE_EVERY:
                inbox.prune(session, now - KEEP_HANDLED)
                self._pruned = loop_now
            return inbox.claim(session, now, free, self.holder) if free > 0 else []

    def _record(self, session: Any, outcomes: _Outcomes, now: Any) -> None:
        inbox.finish(session, outcomes.done, now)
        for row, error in outcomes.failed:
            tries = row.attempts + 1
            if tries >= self.max_tries:
                inbox.fail(session, row.id, error, None)
                log.error("gave up update %s after %d tries: %s", row.update_id, tries, error)
                if kind(row.payload) is Kind.MESSAGE and row.chat_key:  # tell them, once
                    text = texts.render(None, "access.try_again")
                    at = self.rt.clock()
                    message = Outbox(
                        chat_id=row.chat_key,
                        kind=outgoing.REPLY,
                        payload={"method": "sendMessage", "text": text},
                        created_at=at,
                        next_attempt_at=at,
                    )
                    outbox.add_new(session, [message])
            else:
                retry_at = now + timedelta(seconds=retry_delay(tries))
                inbox.fail(session, row.id, error, retry_at)

    def _finish_round(self, outcomes: _Outcomes) -> None:
        with session_scope(self.engine) as session:
            self._record(session, outcomes, utc_now())

    def _release_all(self) -> int:
        with session_scope(self.engine) as session:
            return inbox.release(session)

    def _release_mine(self) -> None:
        with session_scope(self.engine) as session:
            released = inbox.release(session, holder=self.holder)
        if released:
            log.info("returned %d updates to the inbox for the next instance", released)

    # --- handling one update ----------------------------------------------------------------

    def _start(self, row: inbox.Claimed) -> None:
        task = asyncio.create_task(self._handle(row), name=f"update-{row.update_id}")
        self._tasks[row.id] = task

    async def _handle(self, row: inbox.Claimed) -> None:
        loop = asyncio.get_running_loop()
        handling = Handling(kind(row.payload), loop.time())
        token = CURRENT.set(handling)
        try:
            update = Update.de_json(row.payload, self.app.bot)
            await self.app.process_update(update)
        except asyncio.CancelledError:
            self._tasks.pop(row.id, None)
            raise
        except Exception as exc:  # the update could not even be read
            handling.errors.append(exc)
        finally:
            CURRENT.reset(token)
        self._tasks.pop(row.id, None)
        answering = handling.answering
        if answering is not None and not answering.done():
            self._answering[row.id] = asyncio.current_task()  # type: ignore[assignment]
            self._wake.set()  # a slot is free
            try:
                await asyncio.shield(answering)
            except asyncio.CancelledError:
                self._answering.pop(row.id, None)
                raise
            except Exception:
                pass  # noted below
            self._answering.pop(row.id, None)
        if answering is not None and not answering.cancelled() and answering.exception():
            handling.errors.append(answering.exception())  # type: ignore[arg-type]
        metrics.HANDLER_SECONDS.labels(handling.kind.value).observe(loop.time() - handling.started)
        if handling.errors:
            error = handling.errors[-1]
            text = f"{type(error).__name__}: {error}"
            dead = row.attempts + 1 >= self.max_tries
            metrics.UPDATES_HANDLED.labels("dead" if dead else "retry").inc()
            self._outcomes.failed.append((row, text))
        else:
            metrics.UPDATES_HANDLED.labels("done").inc()
            self._outcomes.done.append(row.id)
            self.handled += 1
        self._wake.set()
