"""Nudge wave throughput: execbot's path next to bare python-telegram-bot, and planning time.

Method. The sandbox (``execbot sandbox``) runs in its own process; this script drives execbot
code in-process on a virtual clock (a Tuesday, 2026-11-17, Europe/Berlin):

- execbot's path: an org of N operators holding one duty nudged at 07:00 is imported into a
  fresh database, each person is bound to a sandbox chat created with ``started=True``; then
  ``planning.plan`` (now = 06:59), ``nudging.queue_due`` (now = 07:00:30) and
  ``Sender.drain`` (clock fixed at 07:00:30) over an ``ExtBot`` with execbot's
  ``PacedLimiter``, exactly as ``bot/app.py`` wires them.
- the reference: the same N messages (the same text and keyboard, rendered before the clock
  starts) sent with ``Bot.send_message`` over one ``asyncio.gather``.

Both use an ``HTTPXRequest`` with the same connection pool (``--pool``, default = the
Sender's concurrency, 32) and a generous pool timeout, so that gathering thousands of calls
queues them on the pool instead of failing them.  The sandbox is reset (people, counters,
buckets) before every run, and its counters are read after it.

1. Limits on (30 msg/s overall, 1 msg/s per chat): execbot with the default ``Pacer`` versus
   python-telegram-bot's default ``AIORateLimiter()``.  msg/s = messages delivered / seconds
   of sending (from the start of ``Sender.drain`` until every message is recorded as sent;
   the gather for the reference).  Target: >= 95% of 30 and no 429.
2. Limits off (``--no-limits``, ``Pacer(rate=0, chat_interval=0)``): execbot's whole path
   (planning rows, outbox, sending, recording message ids: from the start of ``plan`` until
   the outbox holds every message as sent) versus the bare gather.  The two run back to back,
   ``--repeat`` times, so that load from other processes hits both alike; the best of each
   counts.  Target: execbot >= 75% of the bare figure.  On SQLite (WAL, temp dir) and, when
   127.0.0.1:5432 answers, on PostgreSQL (a fresh schema of the ``test`` database).
3. Planning a day for 10,000 people and 30,000 duties (``bench/plan_day.py``).

Every run is bounded (a fixed count and a deadline); the sandbox process and the temp dir are
always removed.  A missed target prints TARGET MISSED; only a crash exits non-zero.

    .venv/bin/python bench/nudge_wave.py                  # everything, about 7 minutes
    .venv/bin/python bench/nudge_wave.py --skip-limits-on --skip-plan --people 1000
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardMarkup
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bench import plan_day
from bench.common import (
    Row,
    Sandbox,
    Table,
    open_chats,
    postgres_engine,
    postgres_unavailable,
    prepare_wave,
    sandbox,
    say,
    sqlite_engine,
)
from bot.config import Settings
from bot.delivery.sender import PacedLimiter, Sender
from bot.render.messages import NudgeLine, nudge_messages
from bot.services.nudging import queue_due
from bot.services.planning import plan
from bot.store import outbox
from bot.store.engine import session_scope
from models.pacing import Pacer
from sandbox.state import DEFAULT_TOKEN

IMPORT_AT = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
PLAN_AT = datetime(2026, 11, 17, 5, 59, tzinfo=UTC)  # 06:59 in Berlin, a Tuesday
SEND_AT = datetime(2026, 11, 17, 6, 0, 30, tzinfo=UTC)  # 07:00:30 in Berlin
FIRST_CHAT = 100_000
LIMIT_RATE = 30
T = TypeVar("T")


@dataclass
class Run:
    """One wave: what was delivered, how long it took, and what the sandbox saw."""

    label: str
    delivered: int
    seconds: float  # the measured span (see the module docstring)
    statuses: dict[str, int]
    rate_limited: int
    peak_overall: int
    server_rate: float  # admitted sends per second between the first and the last, server side
    server_cpu: float
    cpu: float = 0.0  # CPU seconds this process (all its threads) spent in the span
    phases: str = ""

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        return (
            f"{self.label}: {self.delivered} delivered in {self.seconds:.2f} s = "
            f"{self.rate:.1f} msg/s{self.phases}, {self.cpu:.2f} s CPU here "
            f"({1000 * self.cpu / max(1, self.delivered):.2f} ms/msg); "
            f"sandbox: statuses {self.statuses}, "
            f"429s {self.rate_limited}, peak {self.peak_overall}/s in a 1 s window, "
            f"{self.server_rate:.1f} msg/s first-to-last, {self.server_cpu:.1f} s CPU"
        )


# --- the two senders ----------------------------------------------------------------------------


def make_request(pool: int) -> HTTPXRequest:
    return HTTPXRequest(connection_pool_size=pool, pool_timeout=60.0)


@dataclass
class Phases:
    plan: float
    queue: float
    send: float  # until Sender.drain returned
    record: float  # until every queued message was recorded as sent (>= send)
    queued: int
    sent: int  # recorded as sent in the end
    unrecorded_at_return: int  # sent rows not yet recorded when drain returned (a bug)
    cpu_total: float  # CPU seconds of this process from plan to the last record
    cpu_send: float  # the same from drain to the last record

    def describe(self) -> str:
        late = (
            f", drain returned {self.record - self.send:.2f} s before the last "
            f"{self.unrecorded_at_return} sends were recorded"
            if self.unrecorded_at_return
            else ""
        )
        return (
            f" (plan {self.plan:.2f} s, queue {self.queue:.2f} s, "
            f"send+record {self.record:.2f} s{late})"
        )


async def execbot_wave(
    engine: Engine, box: Sandbox, pacer: Pacer, pool: int, concurrency: int
) -> Phases:
    """plan -> queue_due -> Sender.drain, then until the outbox says every message is sent."""
    settings = Settings.model_validate({})
    bot: ExtBot[Any] = ExtBot(
        DEFAULT_TOKEN,
        base_url=box.api_base,
        base_file_url=box.file_base,
        request=make_request(pool),
        rate_limiter=PacedLimiter(pacer),
    )
    await bot.initialize()
    try:
        began, cpu_began = time.perf_counter(), time.process_time()
        await asyncio.to_thread(plan, engine, settings, PLAN_AT)
        planned = time.perf_counter()
        queued = (await asyncio.to_thread(queue_due, engine, settings, SEND_AT)).messages
        queued_at, cpu_queued = time.perf_counter(), time.process_time()
        sender = Sender(engine, bot, clock=lambda: SEND_AT, pacer=pacer, concurrency=concurrency)
        await sender.drain()
        returned = time.perf_counter()
        at_return = await asyncio.to_thread(sent_count, engine)
        final = at_return
        while final < queued and time.perf_counter() - returned < 30:
            await asyncio.sleep(0.005)
            final = await asyncio.to_thread(sent_count, engine)
        recorded = returned if final == at_return else time.perf_counter()
        cpu_end = time.process_time()
    finally:
        await bot.shutdown()
    return Phases(
        plan=planned - began,
        queue=queued_at - planned,
        send=returned - queued_at,
        record=recorded - queued_at,
        queued=queued,
        sent=final,
        unrecorded_at_return=final - at_return,
        cpu_total=cpu_end - cpu_began,
        cpu_send=cpu_end - cpu_queued,
    )


def sent_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return outbox.outbox_counts(session).get("sent", 0)


def wave_payloads(count: int) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The texts and keyboards execbot sends in the wave, rendered ahead of time."""
    due = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
    payloads: list[tuple[str, InlineKeyboardMarkup | None]] = []
    for i in range(count):
        line = NudgeLine(
            occurrence_id=i + 1, number=1, title="Morning round", details="", due_at=due
        )
        [message] = nudge_messages("en", f"Person {i}", SEND_AT, "Europe/Berlin", [line])
        markup = InlineKeyboardMarkup.de_json(dict(message.reply_markup or {}), None)
        payloads.append((message.text, markup))
    return payloads


async def bare_wave(
    box: Sandbox, chat_ids: list[int], pool: int, limiter: bool
) -> tuple[float, float, int]:
    """Bare python-telegram-bot: one gather of send_message; returns seconds, CPU seconds
    and successes."""
    payloads = wave_payloads(len(chat_ids))
    request = make_request(pool)
    bot: Bot = (
        ExtBot(
            DEFAULT_TOKEN,
            base_url=box.api_base,
            base_file_url=box.file_base,
            request=request,
            rate_limiter=AIORateLimiter(),
        )
        if limiter
        else Bot(DEFAULT_TOKEN, base_url=box.api_base, base_file_url=box.file_base, request=request)
    )
    await bot.initialize()
    try:
        began, cpu_began = time.perf_counter(), time.process_time()
        results = await asyncio.gather(
            *(
                bot.send_message(chat_id, text, reply_markup=markup)
                for chat_id, (text, markup) in zip(chat_ids, payloads, strict=True)
            ),
            return_exceptions=True,
        )
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    finally:
        await bot.shutdown()
    return elapsed, cpu, sum(not isinstance(result, BaseException) for result in results)


# --- one measured run against a fresh sandbox state ---------------------------------------------


def fresh_sandbox(box: Sandbox, chat_ids: list[int]) -> float:
    """Reset the sandbox, open the chats again, let the buckets be full; returns its CPU."""
    box.client.reset()
    asyncio.run(open_chats(box.url, chat_ids))
    time.sleep(1.0)
    return box.cpu_seconds()


def observed(box: Sandbox, cpu_before: float) -> dict[str, Any]:
    counters = box.client.counters()
    if any(status.startswith("5") for status in counters["statuses"]):
        say(f"the sandbox answered 5xx: {counters['statuses']}; its log ends:\n{box.log_tail()}")
    times = [c["time"] for c in box.client.calls("sendMessage") if c["status"] == 200]
    span = max(times) - min(times) if len(times) > 1 else 0.0
    return {
        "statuses": counters["statuses"],
        "rate_limited": int(counters["429"]),
        "peak_overall": int(counters["peak_overall_rate"]),
        "server_rate": (len(times) - 1) / span if span > 0 else 0.0,
        "server_cpu": box.cpu_seconds() - cpu_before,
    }


def bounded(coro: Awaitable[T], seconds: float) -> T:
    async def run() -> T:
        return await asyncio.wait_for(coro, seconds)

    return asyncio.run(run())


def run_execbot(
    box: Sandbox,
    engine: Engine,
    workdir: Path,
    options: argparse.Namespace,
    pacer: Pacer,
    *,
    label: str,
    whole_path: bool,
) -> Run:
    """execbot's wave on a fresh database; the span is the whole path or the sending only."""
    chat_ids = list(range(FIRST_CHAT, FIRST_CHAT + options.people))
    prepare_wave(engine, workdir, chat_ids, IMPORT_AT)
    cpu = fresh_sandbox(box, chat_ids)
    wave = execbot_wave(engine, box, pacer, options.pool, options.concurrency)
    phases = bounded(wave, deadline(options))
    seconds = phases.plan + phases.queue + phases.record if whole_path else phases.record
    used = phases.cpu_total if whole_path else phases.cpu_send
    return Run(
        label, phases.sent, seconds, cpu=used, phases=phases.describe(), **observed(box, cpu)
    )


def run_bare(box: Sandbox, options: argparse.Namespace, *, label: str, limiter: bool) -> Run:
    chat_ids = list(range(FIRST_CHAT, FIRST_CHAT + options.people))
    cpu = fresh_sandbox(box, chat_ids)
    wave = bare_wave(box, chat_ids, options.pool, limiter)
    seconds, used, delivered = bounded(wave, deadline(options))
    return Run(label, delivered, seconds, cpu=used, **observed(box, cpu))


def deadline(options: argparse.Namespace) -> float:
    """Generous: twice the time the wave needs at 30/s, plus a minute."""
    return float(2 * options.people / LIMIT_RATE + 60)


# --- the three figures --------------------------------------------------------------------------


def limits_on(workdir: Path, options: argparse.Namespace, table: Table) -> None:
    say(f"\n== wave of {options.people}, Telegram's limits on ==")
    with sandbox(workdir, limits=True) as box:
        with sqlite_engine(workdir, "limits-on.db") as engine:
            ours = run_execbot(
                box, engine, workdir, options, Pacer(), label="execbot", whole_path=False
            )
        say(ours.describe())
        # AIORateLimiter logs a traceback for every 429 it gives up on; the sandbox counts them.
        logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
        ref = run_bare(box, options, label="PTB AIORateLimiter()", limiter=True)
        say(ref.describe())
    met = ours.rate >= 0.95 * LIMIT_RATE and ours.rate_limited == 0
    table.add(
        Row(
            "wave, limits on (msg/s, % of 30, 429s)",
            on_figure(ours),
            on_figure(ref),
            ">= 95%, 0 429s",
            met,
        )
    )
    if ours.delivered != options.people:
        say(f"TARGET MISSED: execbot delivered {ours.delivered} of {options.people}")


def on_figure(run: Run) -> str:
    return f"{run.rate:.1f}, {100 * run.rate / LIMIT_RATE:.1f}%, {run.rate_limited}"


def limits_off(workdir: Path, options: argparse.Namespace, table: Table) -> None:
    say(f"\n== wave of {options.people}, limits off, best of {options.repeat} ==")
    with sandbox(workdir, limits=False) as box:
        ours, bare = paired_runs(box, workdir, options, "SQLite")
        add_off_row(table, "wave, limits off, SQLite (msg/s)", ours, bare, options)
        reason = postgres_unavailable()
        if reason:
            say(f"PostgreSQL skipped: {reason}")
            table.add(Row("wave, limits off, PostgreSQL (msg/s)", "skipped", "", reason[:40]))
            return
        ours, bare = paired_runs(box, workdir, options, "PostgreSQL")
        add_off_row(table, "wave, limits off, PostgreSQL (msg/s)", ours, bare, options)


def paired_runs(
    box: Sandbox, workdir: Path, options: argparse.Namespace, backend: str
) -> tuple[Run, Run]:
    """execbot and the bare gather back to back, ``--repeat`` times (so that load from other
    processes on the machine hits both alike); the best of each."""
    unlimited = Pacer(rate=0, chat_interval=0)
    ours, bare = [], []
    for attempt in range(options.repeat):
        database = (
            sqlite_engine(workdir, f"limits-off-{attempt}.db")
            if backend == "SQLite"
            else postgres_engine()
        )
        with database as engine:
            label = f"execbot, {backend}"
            ours.append(
                run_execbot(box, engine, workdir, options, unlimited, label=label, whole_path=True)
            )
        say(ours[-1].describe())
        bare.append(run_bare(box, options, label="bare PTB gather", limiter=False))
        say(bare[-1].describe())
    return max(ours, key=lambda r: r.rate), max(bare, key=lambda r: r.rate)


def add_off_row(
    table: Table, figure: str, ours: Run, bare: Run, options: argparse.Namespace
) -> None:
    ratio = ours.rate / bare.rate if bare.rate else 0.0
    complete = ours.delivered == options.people
    say(f"{figure}: execbot {ours.rate:.0f} vs bare {bare.rate:.0f} = {100 * ratio:.1f}%")
    if not complete:
        say(f"TARGET MISSED: execbot delivered {ours.delivered} of {options.people}")
    table.add(
        Row(
            figure,
            f"{ours.rate:.0f} ({100 * ratio:.1f}% of bare)",
            f"bare {bare.rate:.0f}",
            ">= 75% of bare",
            ratio >= 0.75 and complete,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--people", type=int, default=3000, help="people in the wave")
    parser.add_argument("--pool", type=int, default=32, help="HTTP connection pool size")
    parser.add_argument("--concurrency", type=int, default=32, help="the Sender's concurrency")
    parser.add_argument("--repeat", type=int, default=3, help="limits-off runs of each (best)")
    parser.add_argument("--skip-limits-on", action="store_true")
    parser.add_argument("--skip-plan", action="store_true")
    plan_day.add_arguments(parser)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the sandbox
    table = Table()
    with tempfile.TemporaryDirectory(prefix="execbot-bench-") as tmp:
        workdir = Path(tmp)
        if not options.skip_limits_on:
            limits_on(workdir, options, table)
        limits_off(workdir, options, table)
        if not options.skip_plan:
            say(f"\n== planning: {options.plan_people} people, {options.plan_duties} duties ==")
            table.add(plan_day.row(plan_day.bench(workdir, options)))
    say("\n" + table.render())


if __name__ == "__main__":
    main()
