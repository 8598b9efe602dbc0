"""The one module that sends: it drains the outbox into Telegram within Telegram's limits.

Flow: claim due rows (``pending`` -> ``sending``, committed), pace each send with ``Pacer``
(30 msg/s overall, 1 msg/s per chat), send with bounded concurrency, and record each outcome
within a fraction of a second (``sent`` with Telegram's message id, or a retry time, or given
up). A crash loses nothing: unfinished claims return to ``pending`` (at start-up on SQLite,
which has one instance; after the claim lease on PostgreSQL), so only a message that was in
flight at the crash can arrive twice.

Several instances on one PostgreSQL database send through one of them: the one holding the lease
``sender`` (``LeaseKeeper``); the others wait to take over. So one ``Pacer`` paces every
message of the bot, as Telegram counts them. A sender that loses the lease starts no further
send, finishes and records the ones under way, and returns the rest to ``pending``; a new
holder first waits one pacing window (what the previous one sent in the last second counts)
and any pause a 429 left in the database (``SharedPause``). A stopped (cancelled) sender
returns its unsent claims and releases the lease, so another instance takes over at once.

A database that cannot take the outcomes for a while (a file locked by another writer, a
restarted server) doubles nothing: the outcomes stay in memory until a write commits, the
sender renews its claims meanwhile so no lease hands them to another sender, and it claims
nothing new before the last batch is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import heapq
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from telegram import ForceReply, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter, ExtBot

from bot.delivery.lease import LeaseKeeper
from bot.delivery.pause import SharedPause
from bot.metrics import MESSAGES_SENT, RATE_LIMITED, SEND_RETRIES
from bot.store import audit, org, outbox
from bot.store.engine import session_scope
from models.delivery import DEAD, SKIPPED, Failure, FailureKind, classify_forbidden, judge
from models.pacing import Pacer

log = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"
# Methods that put a message into a chat (or change one) and so count against the limits.
PACED_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
PREPACED = "prepaced"  # rate_limit_args of a call the Sender has already paced
MAX_WRITE_PAUSE = 5.0  # seconds between tries to record outcomes while the database fails
IN_FLIGHT_GRACE = 2.0  # seconds a stopping sender lets the sends under way finish
LATE_TURN = 0.02  # seconds a turn to send may come late before it is booked again
SENDER_LEASE = "sender"
ALL_CLAIMS = timedelta(days=3650)  # "claimed before now + this": every open claim
STOP_TIMEOUT = 3.0  # seconds a stopping sender spends on each database step of its clean-up


def _stopping() -> bool:
    """Whether this task was asked to stop (a cancel not yet delivered, or swallowed)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class PacedLimiter(BaseRateLimiter[str]):
    """Every message python-telegram-bot sends for a handler (replies, edits) takes a slot
    from the same ``Pacer`` as the outbox, so together they stay within Telegram's limits.
    A 429 pauses every send for ``retry_after``, on every instance (``SharedPause``)."""

    def __init__(self, pacer: Pacer, shared: SharedPause | None = None) -> None:
        self.pacer = pacer
        self.shared = shared

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        if endpoint in PACED_METHODS and rate_limit_args != PREPACED:
            if self.shared is not None:
                await self.shared.apply(self.pacer, max_age=1.0)
            chat = data.get("chat_id")
            chat_id = chat if isinstance(chat, int) else hash(str(chat))
            await _paced(self.pacer, chat_id)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self.pacer.pause(loop.time() + _seconds(exc))
            RATE_LIMITED.inc()
            if self.shared is not None:
                await self.shared.share(_seconds(exc))
            raise


@dataclass(slots=True)
class SenderStats:
    sent: int = 0
    retried: int = 0
    given_up: int = 0
    skipped: int = 0
    rate_limited: int = 0


@dataclass(slots=True)
class _Outcomes:
    sent: list[tuple[int, int | None, datetime]] = field(default_factory=list)
    reached: list[int] = field(default_factory=list)
    failed: list[tuple[outbox.Claimed, Failure]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed)

    def extend(self, other: _Outcomes) -> None:
        self.sent += other.sent
        self.reached += other.reached
        self.failed += other.failed

    def ids(self) -> set[int]:
        return {i for i, _, _ in self.sent} | {item.id for item, _ in self.failed}


class Sender:
    def __init__(
        self,
        engine: Engine,
        bot: ExtBot[Any],
        *,
        clock: Callable[[], datetime],
        pacer: Pacer | None = None,
        concurrency: int = 32,
        batch: int = 300,
        lease: timedelta = timedelta(minutes=5),
        idle_poll: float = 1.0,
        flush_every: float = 0.1,
        keeper: LeaseKeeper | None = None,
        shared: SharedPause | None = None,
    ) -> None:
        self.engine, self.bot, self.clock = engine, bot, clock
        self.keeper, self.shared = keeper, shared
        self.pacer = pacer or Pacer()
        self.concurrency, self.batch, self.lease = concurrency, batch, lease
        self.idle_poll, self.flush_every = idle_poll, flush_every
        self.stats = SenderStats()
        self._wake = asyncio.Event()
        self._outcomes = _Outcomes()  # results not yet recorded: kept until a write commits
        self._held: set[int] = set()  # claimed by this sender, outcome not yet recorded
        self._renewed = datetime.min.replace(tzinfo=UTC)

    def wake(self) -> None:
        """New messages were stored: look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled, while this instance holds the lease (always, without a
        keeper); then return unsent claims and release the lease.

        Telegram counts per bot, not per process: a sender that just started, or took over
        from another instance, cannot know what was sent in the last second, so it waits one
        window before sending.
        """
        if self.keeper is not None:
            self.keeper.start()
        first = True
        try:
            while True:
                if self.keeper is not None:
                    await self.keeper.wait_held()
                    log.info("sending as %s", self.keeper.holder)
                loop = asyncio.get_running_loop()
                self.pacer.pause(loop.time() + self.pacer.window + self.pacer.margin)
                if self.keeper is not None:
                    # Only the lease holder sends: a claim still open now is a dead sender's
                    # (a stopped one returned its own). Take it back at once, not after the
                    # claim lease: only a message in flight at the death may go twice.
                    await asyncio.to_thread(self._release, self.clock() + timedelta(seconds=1))
                elif first and self.engine.dialect.name == "sqlite":
                    # SQLite serves one instance: at start every open claim is a dead
                    # process's, whatever its time (a clock started again, as the tests'
                    # virtual one is, may be behind the claims the dead process made).
                    await asyncio.to_thread(self._release, self.clock() + ALL_CLAIMS)
                first = False
                await self._send_while_held()
                log.warning("stopped sending: the lease %s went to another instance", SENDER_LEASE)
                await self._give_back()
        except asyncio.CancelledError:
            await self._give_back()
            raise
        finally:
            if self.keeper is not None:
                await self.keeper.stop()

    def holding(self) -> bool:
        return self.keeper is None or self.keeper.held

    async def _send_while_held(self) -> None:
        failures = 0
        while self.holding():
            try:
                sent = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender pass failed; retrying shortly")
                failures, sent = min(failures + 1, 10), 0
                await asyncio.sleep(min(self.idle_poll * 2 ** (failures - 1), MAX_WRITE_PAUSE))
                continue
            failures = 0
            if _stopping():
                # A stop that came while the drain awaited its flusher was taken by it (an
                # awaited task that ends normally swallows its waiter's cancel): stop now.
                raise asyncio.CancelledError
            if not sent:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_poll)

    async def _give_back(self) -> None:
        """Record what was sent, and return the claims not sent (or whose send was cut off:
        those alone may reach Telegram twice) to ``pending``. Bounded: a stopping process
        must exit within seconds even when the database is gone."""
        try:
            await asyncio.wait_for(self._write_back(), STOP_TIMEOUT)
        except Exception as exc:
            log.warning("could not record the last sends (%s); their claims expire", exc)
        unsent = sorted(self._held - self._outcomes.ids())
        if not unsent:
            return
        try:
            returned = await asyncio.wait_for(
                asyncio.to_thread(self._unclaim, unsent), STOP_TIMEOUT
            )
        except Exception as exc:
            log.warning(
                "could not return %d claimed sends (%s); their claims expire", len(unsent), exc
            )
            return
        self._held -= set(unsent)
        log.info("returned %d claimed sends to the outbox", returned)

    async def drain_once(self) -> int:
        """Claim and send one batch of due messages; returns how many were claimed.

        Outcomes a stalled database could not take are written first: no new claims (and no
        release of old ones) while any message this sender sent is not recorded as sent."""
        await self._write_back()
        if not self.holding():
            return 0
        if self.shared is not None:
            await self.shared.apply(self.pacer)
        await asyncio.to_thread(self._release, self.clock() - self.lease)
        claimed = await asyncio.to_thread(self._claim)
        self._held = {c.id for c in claimed}
        self._renewed = self.clock()
        if claimed:
            await self._send_batch(claimed)
        return len(claimed)

    async def drain(self) -> None:
        """Send until nothing is due now (for tests, benchmarks and one-shot runs)."""
        while await self.drain_once():
            pass

    def _claim(self) -> list[outbox.Claimed]:
        with session_scope(self.engine) as session:
            return outbox.claim(session, self.clock(), self.batch)

    def _unclaim(self, ids: list[int]) -> int:
        with session_scope(self.engine) as session:
            return outbox.unclaim(session, ids)

    def _renew(self, ids: list[int], now: datetime) -> None:
        with session_scope(self.engine) as session:
            outbox.renew_claims(session, ids, now)

    def _release(self, claimed_before: datetime) -> None:
        with session_scope(self.engine) as session:
            released = outbox.release_claims(session, claimed_before)
        if released:
            log.warning("returned %d unfinished sends to the outbox", released)

    async def _send_batch(self, claimed: list[outbox.Claimed]) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        last: dict[int, asyncio.Task[None]] = {}  # chat -> its latest send in this batch
        done = asyncio.Event()
        flusher = asyncio.create_task(self._flush_until(done))
        # Earliest-ready chat first, so one busy chat never holds up the others.
        queue = [(self.pacer.chat_ready(c.chat_id), c.id, c) for c in claimed]
        heapq.heapify(queue)
        try:
            while queue and self.holding():
                ready, _, item = heapq.heappop(queue)
                if self.pacer.chat_ready(item.chat_id) > ready:
                    heapq.heappush(queue, (self.pacer.chat_ready(item.chat_id), item.id, item))
                    continue
                await slots.acquire()
                await _paced(self.pacer, item.chat_id)
                if not self.holding():  # lost while waiting for the slot: not sent
                    slots.release()
                    break
                # One chat's messages go one after the other, in id order: without a pause
                # per chat (chat_interval 0) two sends to a chat could otherwise overtake.
                task = asyncio.create_task(self._send_one(item, slots, last.get(item.chat_id)))
                last[item.chat_id] = task
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            # A stop: the sends already on their way may finish (bounded), so their outcome
            # is known and none goes back to be sent twice; those cut off go back.
            if tasks:
                _, cut = await asyncio.wait(set(tasks), timeout=IN_FLIGHT_GRACE)
                for task in cut:
                    task.cancel()
                await asyncio.gather(*cut, return_exceptions=True)
            raise
        finally:
            # Stop the flusher between two flushes (a cancelled thread would go on writing
            # after drain() returned), then record what is left.
            done.set()
            await flusher
            await self._write_back()

    async def _send_one(
        self,
        item: outbox.Claimed,
        slots: asyncio.Semaphore,
        after: asyncio.Task[None] | None = None,
    ) -> None:
        try:
            if after is not None:
                await asyncio.wait([after])
            message_id = await self._call(item)
        except RetryAfter as exc:
            seconds = _seconds(exc)
            self.pacer.pause(asyncio.get_running_loop().time() + seconds)
            self.stats.rate_limited += 1
            RATE_LIMITED.inc()
            if self.shared is not None:
                await self.shared.share(seconds)
            self._outcomes.failed.append(
                (item, Failure(FailureKind.RATE_LIMITED, str(exc), seconds))
            )
        except Forbidden as exc:
            kind = classify_forbidden(exc.message)
            self._outcomes.failed.append((item, Failure(kind, exc.message)))
        except BadRequest as exc:
            if NOT_MODIFIED in exc.message.lower():
                self._outcomes.sent.append((item.id, item.payload.get("message_id"), self.clock()))
            else:
                kind = (
                    FailureKind.CHAT_NOT_FOUND
                    if "chat not found" in exc.message.lower()
                    else FailureKind.BAD_REQUEST
                )
                self._outcomes.failed.append((item, Failure(kind, exc.message)))
        except (NetworkError, TelegramError) as exc:  # timeouts, 5xx, connection errors
            self._outcomes.failed.append((item, Failure(FailureKind.TRANSIENT, str(exc))))
        else:
            self._outcomes.sent.append((item.id, message_id, self.clock()))
            if item.person_id is not None:
                self._outcomes.reached.append(item.person_id)
        finally:
            slots.release()

    async def _call(self, item: outbox.Claimed) -> int | None:
        payload = item.payload
        method = payload.get("method", "sendMessage")
        markup = payload.get("reply_markup")
        keyboard: InlineKeyboardMarkup | ForceReply | None = None
        if markup and markup.get("force_reply"):
            keyboard = ForceReply.de_json(markup, self.bot)
        elif markup:
            keyboard = InlineKeyboardMarkup.de_json(markup, self.bot)
        result: Message | bool
        if method == "sendMessage":
            result = await self.bot.send_message(
                chat_id=item.chat_id,
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=keyboard,
                rate_limit_args=PREPACED,
            )
        elif method == "editMessageText":
            result = await self.bot.edit_message_text(
                chat_id=item.chat_id,
                message_id=payload["message_id"],
                text=payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None,
                rate_limit_args=PREPACED,
            )
        elif method == "sendPhoto":
            # A stored PNG (the weekly report's chart): base64 in the row, which every
            # instance can read; uploaded as a file, with its caption.
            photo = InputFile(base64.b64decode(payload["photo"]), filename=payload.get("filename"))
            result = await self.bot.send_photo(
                chat_id=item.chat_id,
                photo=photo,
                caption=payload.get("caption"),
                parse_mode=payload.get("parse_mode"),
                reply_markup=keyboard,
                rate_limit_args=PREPACED,
            )
        else:
            raise BadRequest(f"execbot cannot send outbox method {method!r}")
        return result.message_id if isinstance(result, Message) else payload.get("message_id")

    async def _flush_until(self, done: asyncio.Event) -> None:
        """Record outcomes every ``flush_every`` seconds until ``done`` is set, and keep this
        sender's claims fresh meanwhile. A write that fails (a locked or lost database) is
        tried again, less often while it keeps failing; the outcomes wait in memory."""
        failures = 0
        while not done.is_set():
            pause = min(self.flush_every * 2**failures, MAX_WRITE_PAUSE)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), pause)
            if done.is_set():
                break
            try:
                await self._renew_claims()
                await self._write_back()
            except Exception as exc:
                failures = min(failures + 1, 10)
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning("cannot record sends yet (%s); keeping them to try again", first_line)
            else:
                failures = 0

    async def _renew_claims(self) -> None:
        """Move the claim time of the rows this sender holds to now, every quarter lease, so
        no instance takes them back while they are in flight or their outcome waits."""
        now = self.clock()
        held = sorted(self._held)
        if held and now - self._renewed >= self.lease / 4:
            await asyncio.to_thread(self._renew, held, now)
            self._renewed = now

    async def _write_back(self) -> None:
        """Record every outcome gathered so far, in one transaction. If it fails they are
        kept (merged on the event loop, so none that arrive meanwhile is lost) and the error
        is raised; the next write tries them all again. Writing one twice is harmless."""
        outcomes, self._outcomes = self._outcomes, _Outcomes()
        if not outcomes:
            return
        try:
            await asyncio.to_thread(self._flush, outcomes)
        except BaseException:
            outcomes.extend(self._outcomes)
            self._outcomes = outcomes
            raise
        self._held -= outcomes.ids()

    def _flush(self, outcomes: _Outcomes) -> None:
        now = self.clock()
        given_up = retried = skipped = 0
        with session_scope(self.engine) as session:
            outbox.record_sent(session, outcomes.sent)
            org.mark_reachable(session, sorted(set(outcomes.reached)))
            for item, failure in outcomes.failed:
                verdict = judge(failure, item.attempts + 1, now, item.stale_at)
                outbox.record_failure(
                    session, item.id, verdict.state, verdict.retry_at, failure.detail
                )
                if verdict.state == DEAD:
                    given_up += 1
                    log.warning("gave up outbox %s (%s): %s", item.id, item.kind, failure.detail)
                elif verdict.state == SKIPPED:
                    skipped += 1
                    log.info("skipped stale outbox %s (%s): %s", item.id, item.kind, failure.detail)
                else:
                    retried += 1
                news = (
                    verdict.unreachable is not None
                    and item.person_id is not None
                    and org.mark_unreachable(session, item.person_id, verdict.unreachable, now)
                )
                if news:
                    audit.record(
                        session,
                        "person.unreachable",
                        now,
                        subject=f"person_id:{item.person_id}",
                        data={"reason": verdict.unreachable, "detail": failure.detail},
                    )
        self.stats.sent += len(outcomes.sent)
        MESSAGES_SENT.inc(len(outcomes.sent))
        SEND_RETRIES.inc(retried)
        self.stats.given_up += given_up
        self.stats.retried += retried
        self.stats.skipped += skipped


async def _paced(pacer: Pacer, chat_id: int) -> None:
    """Wait for a turn to send to ``chat_id``; book again if a pause (a 429) began while
    waiting (a turn booked before the pause must not go out during it), or if the turn came
    late because the process was busy: sends that all fall due at once after a stall would
    reach Telegram as a burst, so the late one takes the next free turn instead."""
    loop = asyncio.get_running_loop()
    late_once = False  # book again for lateness once: a machine always late must still send
    while True:
        at = pacer.reserve(chat_id, loop.time())
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = loop.time()
        if pacer.paused(now):
            continue
        if now - at <= LATE_TURN or late_once:
            return
        # the unused turn must not hold the window, nor push this chat a chat interval away
        # (the caller sends one at a time: that would idle every send for over a second)
        pacer.give_back(chat_id, at)
        late_once = True


def _seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
