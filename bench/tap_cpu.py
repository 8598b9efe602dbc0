"""CPU per tap: what one button tap under a nudge costs the bot, unpaced, with no network.
Target: a mean under 5 ms of CPU per tap on SQLite (one core answers 200 taps a second).

Method. A fresh database (SQLite file, WAL, in a temp dir; PostgreSQL in a fresh schema if
127.0.0.1:5432 answers) holds a realistic day: the org of ``plan_day.py`` (a plant, 10
workshops, 100 teams with leaders, ~3 duties per person, one team duty for every operator)
for ``--people`` people, everyone joined (a Telegram id each), planned at 05:00 Berlin time
and nudged at 07:00:30; every nudge is then recorded as sent (a Telegram message id each), as
the sender would. At 07:10 the taps come, each with the callback data of a button of the
stored nudge (and, for a block or a later, of the question's keyboard the answer carried):
70% Done, 15% Blocked then a category, 15% Later then "in 1 hour", one occurrence each.

Each tap is the service call the handler makes (``bot.services.replies.tap``), through
``Runtime.call`` (a worker thread), one at a time. Measured: the thread's CPU inside the
call (``time.thread_time``), per tap, and the process's CPU (``time.process_time``) over the
whole run, which adds the event loop and thread hand-offs. A tap whose outcome asks for the
escalation pass (``Outcome.wake_escalation``; before that flag existed, every recorded
answer woke it) runs ``escalation.advance`` after it, as the woken pass would, and its CPU
counts too ("with passes"). A block-then-category counts as two taps, as it is two taps.

    .venv/bin/python bench/tap_cpu.py                  # 3,000 people, 600 taps; ~1-2 minutes
    .venv/bin/python bench/tap_cpu.py --quick          # 500 people, 150 taps
    .venv/bin/python bench/tap_cpu.py --quick --profile --skip-postgres   # cProfile, top items
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.common import import_file, postgres_engine, postgres_unavailable, say, sqlite_engine
from bench.plan_day import org_toml
from bot.config import Settings
from bot.delivery.outcomes import Outcome
from bot.runtime import Runtime
from bot.services import escalation, nudging, planning, replies
from bot.services.recording import Incoming
from models.tables import Outbox
from scheduler import jobs

IMPORT_AT = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
PLAN_AT = datetime(2026, 11, 17, 4, 0, tzinfo=UTC)  # 05:00 in Berlin, a Tuesday
NUDGE_AT = datetime(2026, 11, 17, 6, 0, 30, tzinfo=UTC)  # 07:00:30 in Berlin
TAP_AT = datetime(2026, 11, 17, 6, 10, tzinfo=UTC)
TARGET_MS = 5.0
RATE = 200  # taps a second the target is about
WAKE_GAP = getattr(jobs, "WAKE_GAP", 1.0)  # (the bench also runs on code from before it)
TELEGRAM_BASE = 1_000_000  # person id + this = their Telegram id
T = TypeVar("T")


@dataclass
class Tap:
    """One button of a stored nudge: who taps it, on which message, what it sends."""

    chat_id: int
    message_id: int
    data: str


@dataclass
class Figures:
    backend: str
    thread_ms: list[float] = field(default_factory=list)  # the service call, per tap
    pass_ms: list[float] = field(default_factory=list)  # each woken escalation pass
    process_seconds: float = 0.0  # the whole run, passes included
    wall_seconds: float = 0.0
    recorded: int = 0
    not_recorded: dict[str, int] = field(default_factory=dict)

    @property
    def taps(self) -> int:
        return len(self.thread_ms)

    def p50(self) -> float:
        return statistics.median(self.thread_ms)

    def p99(self) -> float:
        ms = sorted(self.thread_ms)
        return ms[min(len(ms) - 1, int(len(ms) * 0.99))]

    def process_ms(self) -> float:
        """Process CPU per tap, the passes' own CPU taken out: the service call, the worker
        thread hand-off and the event loop."""
        return (self.process_seconds * 1000 - sum(self.pass_ms)) / self.taps

    def pass_mean(self) -> float:
        return statistics.fmean(self.pass_ms) if self.pass_ms else 0.0

    def coalesced(self) -> float:
        """Per tap at ``RATE`` taps a second, woken passes coalesced to one per ``WAKE_GAP``
        (when any tap woke one): the figure the target is about."""
        share = self.pass_mean() * WAKE_GAP / RATE if self.pass_ms else 0.0
        return self.process_ms() + share

    def uncoalesced(self) -> float:
        """Per tap with a whole pass for every tap that woke one (as before coalescing)."""
        return self.process_ms() + sum(self.pass_ms) / self.taps


# --- the day ------------------------------------------------------------------------------------


def prepare(engine: Engine, workdir: Path, people: int, duties: int) -> int:
    """The org imported, joined, planned and nudged; every nudge sent. Returns the number
    of nudge messages."""
    org = workdir / "tap-org.toml"
    org.write_text(org_toml(people, duties))
    import_file(engine, org, IMPORT_AT)
    org.unlink()
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE person SET telegram_user_id = id + {TELEGRAM_BASE}"))
    settings = Settings.model_validate({})
    planning.plan(engine, settings, PLAN_AT)
    nudging.queue_due(engine, settings, NUDGE_AT)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE outbox SET state = 'sent', telegram_message_id = id, sent_at = :at "
                "WHERE state = 'pending'"
            ),
            {"at": NUDGE_AT + timedelta(seconds=5)},
        )
        count = conn.execute(text("SELECT count(*) FROM outbox WHERE kind = 'nudge'")).scalar()
    return int(count or 0)


def nudge_buttons(engine: Engine) -> list[Tap]:
    """The first-row answer buttons of every sent nudge: (chat, message, callback data)."""
    query = select(col(Outbox.chat_id), col(Outbox.telegram_message_id), col(Outbox.payload))
    taps = []
    with engine.connect() as conn:
        rows = conn.execute(query.where(col(Outbox.kind) == "nudge")).all()
    for chat_id, message_id, payload in rows:
        markup = payload.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                taps.append(Tap(int(chat_id), int(message_id), button["callback_data"]))
    return taps


def plan_taps(buttons: list[Tap], count: int, seed: int = 12) -> list[tuple[str, Tap]]:
    """``count`` first taps on distinct occurrences: 70% done, 15% blocked, 15% later."""
    by_occurrence: dict[str, dict[str, Tap]] = {}
    for tap in buttons:
        kind, code, occurrence = tap.data.split(":")
        if kind == "r":
            by_occurrence.setdefault(occurrence, {})[code] = tap
    occurrences = sorted(by_occurrence)
    random.Random(seed).shuffle(occurrences)
    chosen = []
    for index, occurrence in enumerate(occurrences[:count]):
        kind = "d" if index % 20 < 14 else ("b" if index % 20 < 17 else "l")
        chosen.append((kind, by_occurrence[occurrence][kind]))
    return chosen


def follow_up(outcome: Outcome, kind: str) -> str | None:
    """The second tap of a block (a category) or a later (in 1 hour), from the question's
    keyboard the first tap's answer carried."""
    if kind == "d" or outcome.prompt is None or not outcome.prompt.reply_markup:
        return None
    rows: Any = outcome.prompt.reply_markup["inline_keyboard"]
    wanted = "c:w:" if kind == "b" else "t:1h:"
    return next(
        (b["callback_data"] for row in rows for b in row if b["callback_data"].startswith(wanted)),
        None,
    )


# --- the measurement ----------------------------------------------------------------------------


def timed_tap(
    engine: Engine, settings: Settings, incoming: Incoming, data: str
) -> tuple[Outcome, float]:
    began = time.thread_time()
    outcome = replies.tap(engine, settings, incoming, data)
    return outcome, (time.thread_time() - began) * 1000


def timed_pass(engine: Engine, settings: Settings, now: datetime) -> float:
    began = time.thread_time()
    escalation.advance(engine, settings, now)
    return (time.thread_time() - began) * 1000


def wakes(outcome: Outcome) -> bool:
    """Whether the handler would wake the pass (before the flag: every recorded answer)."""
    flag = getattr(outcome, "wake_escalation", None)
    return bool(outcome.recorded if flag is None else flag)


async def run_taps(
    engine: Engine, planned: list[tuple[str, Tap]], figures: Figures, *, direct: bool = False
) -> None:
    """Every tap in turn; ``direct``: in this thread (cProfile sees only its own thread)."""
    settings = Settings.model_validate({})
    rt = Runtime(settings, engine, lambda: TAP_AT)

    async def call(fn: Callable[..., T], *args: Any) -> T:
        return fn(*args) if direct else await rt.call(fn, *args)

    update_id = 10_000
    step = timedelta(milliseconds=5)

    async def one(tap: Tap, data: str, at: datetime) -> Outcome:
        nonlocal update_id
        update_id += 1
        incoming = Incoming(tap.chat_id, update_id, tap.message_id, at)
        outcome, ms = await call(timed_tap, engine, settings, incoming, data)
        figures.thread_ms.append(ms)
        if outcome.recorded:
            figures.recorded += 1
        elif data.startswith(("r:d", "c:", "t:")):
            key = outcome.answer[:40]
            figures.not_recorded[key] = figures.not_recorded.get(key, 0) + 1
        if wakes(outcome):
            figures.pass_ms.append(await call(timed_pass, engine, settings, at))
        return outcome

    now = TAP_AT
    began_wall, began_cpu = time.perf_counter(), time.process_time()
    for kind, tap in planned:
        now += step
        outcome = await one(tap, tap.data, now)
        second = follow_up(outcome, kind)
        if second is not None:
            now += step
            await one(tap, second, now)
    figures.process_seconds = time.process_time() - began_cpu
    figures.wall_seconds = time.perf_counter() - began_wall


def bench(
    backend: str,
    engine_cm: Callable[[], AbstractContextManager[Engine]],
    workdir: Path,
    options: argparse.Namespace,
) -> Figures:
    figures = Figures(backend)
    with engine_cm() as engine:
        began = time.perf_counter()
        nudges = prepare(engine, workdir, options.people, options.people * 3)
        say(f"{backend}: the day prepared in {time.perf_counter() - began:.1f} s, {nudges} nudges")
        planned = plan_taps(nudge_buttons(engine), options.taps)
        if len(planned) < options.taps:
            say(f"{backend}: only {len(planned)} occurrences to tap")
        profiler = cProfile.Profile() if options.profile else None
        if profiler is not None:
            profiler.enable()
        asyncio.run(run_taps(engine, planned, figures, direct=profiler is not None))
        if profiler is not None:
            profiler.disable()
            print_profile(profiler, options.profile_lines)
    return figures


def print_profile(profiler: cProfile.Profile, lines: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        say(f"--- profile by {order} ---")
        say("\n".join(out.getvalue().splitlines()[4:]))


def report(figures: Figures) -> None:
    passes = figures.pass_ms
    say(
        f"{figures.backend}: {figures.taps} taps ({figures.recorded} recorded), "
        f"{len(passes)} woke the escalation pass"
    )
    if figures.not_recorded:
        say(f"  not recorded: {figures.not_recorded}")
    say(
        f"  tap CPU in the service call (thread, ms): "
        f"mean {statistics.fmean(figures.thread_ms):.2f}  p50 {figures.p50():.2f}  "
        f"p99 {figures.p99():.2f}  max {max(figures.thread_ms):.2f}"
    )
    say(f"  process CPU per tap, passes left out (ms): {figures.process_ms():.2f}")
    if passes:
        say(
            f"  a woken pass (thread CPU, ms): mean {figures.pass_mean():.2f}, "
            f"max {max(passes):.2f}"
        )
    say(
        f"  per tap with passes: {figures.coalesced():.2f} ms at {RATE} taps/s (woken passes "
        f"coalesced, at most one per {WAKE_GAP:.0f} s); {figures.uncoalesced():.2f} ms with a "
        f"pass for every tap that woke one; wall {figures.wall_seconds:.1f} s"
    )


def engines(
    workdir: Path, options: argparse.Namespace
) -> Iterator[tuple[str, Callable[[], AbstractContextManager[Engine]]]]:
    yield "SQLite", lambda: sqlite_engine(workdir, "tap-cpu.db")
    if options.skip_postgres:
        return
    reason = postgres_unavailable()
    if reason is not None:
        say(f"PostgreSQL skipped: {reason}")
        return
    yield "PostgreSQL", postgres_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--taps", type=int, default=600, help="first taps (occurrences)")
    parser.add_argument("--quick", action="store_true", help="500 people, 150 taps")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the taps")
    parser.add_argument("--profile-lines", type=int, default=25)
    options = parser.parse_args()
    if options.quick:
        options.people, options.taps = 500, 150
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the temp dir
    results = []
    with tempfile.TemporaryDirectory(prefix="execbot-bench-") as tmp:
        for backend, engine_cm in engines(Path(tmp), options):
            figures = bench(backend, engine_cm, Path(tmp), options)
            report(figures)
            results.append(figures)
    say(f"\n{'figure':<46} {'mean':>7} {'p50':>7} {'p99':>7} {'taps/s':>7}  target")
    for figures in results:
        mean = figures.coalesced()
        sqlite = figures.backend == "SQLite"
        verdict = ("  ok" if mean < TARGET_MS else "  TARGET MISSED") if sqlite else ""
        target = f"< {TARGET_MS:.0f} ms mean" if sqlite else "(reported)"
        say(
            f"{'CPU per tap, ' + figures.backend + ' (ms)':<46} {mean:>7.2f} "
            f"{figures.p50():>7.2f} {figures.p99():>7.2f} {1000 / mean:>7.0f}  {target}{verdict}"
        )
        say(
            f"{'  with a pass for every waking tap (ms)':<46} {figures.uncoalesced():>7.2f} "
            f"{'':>7} {'':>7} {1000 / figures.uncoalesced():>7.0f}"
        )
    say("(p50 and p99: thread CPU of the service call; mean: process CPU, see the docstring)")


if __name__ == "__main__":
    main()
