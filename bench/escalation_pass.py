"""One escalation pass over 100,000 open occurrences: target under 200 ms when nothing is due,
under 2 s when 1,000 steps are due.

Method. A fresh database (SQLite file in a temp dir; PostgreSQL in a fresh schema if
127.0.0.1:5432 answers) is filled with SQLAlchemy Core bulk inserts: a plant of 10,000 people
in 500 units (the plant, 20 workshops with a head and a deputy, 479 teams of about 20 people,
each with a leader), ten duties, and ten open occurrences per person for today (100,000), each
with the default policy snapshot (reminders -30m and 0m; levels after 30m, 2h, 4h) and its
next step (the first reminder) between 30 minutes and 10 hours ahead. Everyone has a chat.

Then ``bot.services.escalation.advance`` runs at 10:00 Berlin time:
- nothing due: several passes, the median is the figure;
- 1,000 due: 1,000 occurrences are made overdue (due 40 minutes ago, next step 10 minutes
  ago), so each has exactly one step to run: level 1, to its team leader, grouped (5 minutes)
  per leader and sent in the same pass. A fresh set of 1,000 each run; the median is the figure.

    .venv/bin/python bench/escalation_pass.py             # about a minute
    .venv/bin/python bench/escalation_pass.py --profile   # cProfile of one pass with work
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.common import Row, Table, postgres_engine, postgres_unavailable, say, sqlite_engine
from bot.config import Settings
from bot.services import escalation
from models.tables import Duty, Leadership, Notice, Occurrence, Outbox, Person, Unit

NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, a Tuesday
DAY = date(2026, 11, 17)
PEOPLE, UNITS, WORKSHOPS, DUTIES = 10_000, 500, 20, 10
OCCURRENCES = PEOPLE * DUTIES
DUE = 1_000
IDLE_TARGET, DUE_TARGET = 0.2, 2.0
CHUNK = 5_000


@dataclass
class Figures:
    backend: str
    idle: list[float]
    due: list[float]
    steps: list[int]
    messages: list[int]

    @property
    def idle_median(self) -> float:
        return statistics.median(self.idle)

    @property
    def due_median(self) -> float:
        return statistics.median(self.due)


# --- the plant ----------------------------------------------------------------------------------


def org_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Units, people and leadership rows (explicit ids: 1 is the plant, 2-21 workshops)."""
    stamp = {"created_at": NOW, "updated_at": NOW}
    units = [{"id": 1, "key": "plant", "name": "Plant", "kind": "plant", "parent_id": None}]
    units += [
        {"id": u, "key": f"ws{u}", "name": f"Workshop {u}", "kind": "workshop", "parent_id": 1}
        for u in range(2, 2 + WORKSHOPS)
    ]
    teams = list(range(2 + WORKSHOPS, UNITS + 1))
    units += [
        {"id": u, "key": f"t{u}", "name": f"Team {u}", "kind": "team",
         "parent_id": 2 + u % WORKSHOPS}
        for u in teams
    ]  # fmt: skip
    home = {1: 1}  # person id -> unit id: the plant manager, the heads and deputies first
    for index, u in enumerate(range(2, 2 + WORKSHOPS)):
        home[2 + 2 * index], home[3 + 2 * index] = u, u
    first_worker = 2 + 2 * WORKSHOPS
    for pid in range(first_worker, PEOPLE + 1):
        home[pid] = teams[(pid - first_worker) % len(teams)]
    people = [
        {"id": pid, "key": f"p{pid}", "name": f"Person {pid}", "unit_id": unit,
         "post": "operator", "telegram_user_id": 1_000_000 + pid, "language": "en"} | stamp
        for pid, unit in home.items()
    ]  # fmt: skip
    leaders = [{"unit_id": 1, "role": "leader", "person_id": 1}]
    for index, u in enumerate(range(2, 2 + WORKSHOPS)):
        leaders.append({"unit_id": u, "role": "leader", "person_id": 2 + 2 * index})
        leaders.append({"unit_id": u, "role": "deputy", "person_id": 3 + 2 * index})
    for offset, u in enumerate(teams):  # the team's first member leads it
        leaders.append({"unit_id": u, "role": "leader", "person_id": first_worker + offset})
    return [u | stamp for u in units], people, leaders


def occurrence_rows(policy: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """100,000 open occurrences in chunks; the k-th is due 1 to 10.5 hours ahead."""
    chunk: list[dict[str, Any]] = []
    for pid in range(1, PEOPLE + 1):
        for duty in range(1, DUTIES + 1):
            oid = (pid - 1) * DUTIES + duty
            due_at = NOW + timedelta(hours=1, minutes=oid % 570)
            chunk.append(
                {"id": oid, "duty_id": duty, "person_id": pid, "day": DAY, "number": duty,
                 "nudge_at": NOW - timedelta(hours=3), "due_at": due_at, "status": "open",
                 "status_at": NOW - timedelta(hours=4), "nudge_state": "queued",
                 "created_at": NOW - timedelta(hours=4), "policy": policy, "urgent": False,
                 "reminders_sent": 0, "levels_done": 0, "escalation_ended": False,
                 "next_step_at": due_at - timedelta(minutes=30)}
            )  # fmt: skip
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def fill(engine: Engine, settings: Settings) -> float:
    started = time.perf_counter()
    units, people, leaders = org_rows()
    policy = escalation.policy_for(settings, None, [])
    sample_due = NOW + timedelta(hours=1)
    assert escalation.first_step_at(policy, sample_due, "open", NOW) == sample_due - timedelta(
        minutes=30
    )
    duties = [
        {"id": d, "key": f"d{d}", "title": f"Duty number {d}", "post": "operator", "unit_id": 1,
         "due": "+4h", "created_at": NOW, "updated_at": NOW}
        for d in range(1, DUTIES + 1)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Unit), units)
        conn.execute(insert(Person), people)
        conn.execute(insert(Leadership), leaders)
        conn.execute(insert(Duty), duties)
        for chunk in occurrence_rows(policy):
            conn.execute(insert(Occurrence), chunk)
    return time.perf_counter() - started


def make_due(engine: Engine, run: int) -> list[int]:
    """Exactly ``DUE`` occurrences, not touched before, get one overdue step (level 1)."""
    ids = sorted(random.Random(run).sample(range(1, OCCURRENCES + 1), DUE * 4))
    with engine.begin() as conn:
        fresh = set(
            conn.execute(
                select(col(Occurrence.id)).where(
                    col(Occurrence.id).in_(ids), col(Occurrence.levels_done) == 0
                )
            ).scalars()
        )
        chosen = [i for i in ids if i in fresh][:DUE]
        assert len(chosen) == DUE
        conn.execute(
            update(Occurrence)
            .where(col(Occurrence.id).in_(chosen))
            .values(due_at=NOW - timedelta(minutes=40), next_step_at=NOW - timedelta(minutes=10))
        )
    return chosen


def timed(call: Callable[[], escalation.PassResult]) -> tuple[float, escalation.PassResult]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def run_backend(
    name: str, engine_cm: AbstractContextManager[Engine], runs: int, profile: bool
) -> Figures:
    settings = Settings()
    with engine_cm as engine:
        seconds = fill(engine, settings)
        say(f"[{name}] filled {OCCURRENCES:,} occurrences, {PEOPLE:,} people: {seconds:.1f} s")
        figures = Figures(name, [], [], [], [])
        escalation.advance(engine, settings, NOW)  # warm up: connection pool, imports
        for _ in range(max(runs, 3)):
            took, result = timed(lambda: escalation.advance(engine, settings, NOW))
            assert result.steps == 0 and result.messages == 0
            figures.idle.append(took)
        say(f"[{name}] nothing due: " + ", ".join(f"{t * 1000:.0f} ms" for t in figures.idle))
        for run in range(runs):
            make_due(engine, run)
            took, result = timed(lambda: escalation.advance(engine, settings, NOW))
            assert result.steps == DUE, result
            figures.due.append(took)
            figures.steps.append(result.steps)
            figures.messages.append(result.messages)
        say(
            f"[{name}] {DUE:,} due: "
            + ", ".join(
                f"{t:.2f} s ({m} messages)"
                for t, m in zip(figures.due, figures.messages, strict=True)
            )
        )
        with engine.connect() as conn:
            notices = conn.execute(select(func.count()).select_from(Notice)).scalar()
            outbox = conn.execute(select(func.count()).select_from(Outbox)).scalar()
        say(f"[{name}] stored: {notices} notices, {outbox} messages")
        if profile or figures.due_median > DUE_TARGET:
            make_due(engine, 1000)
            profiler = cProfile.Profile()
            profiler.enable()
            escalation.advance(engine, settings, NOW)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            say(out.getvalue())
    return figures


def rows(figures: Figures) -> list[Row]:
    return [
        Row(
            f"{figures.backend}: pass, nothing due (ms)",
            f"{figures.idle_median * 1000:.0f} (median of {len(figures.idle)})",
            f"{OCCURRENCES:,} open",
            f"< {IDLE_TARGET * 1000:.0f} ms",
            figures.idle_median < IDLE_TARGET,
        ),
        Row(
            f"{figures.backend}: pass, {DUE:,} steps due (s)",
            f"{figures.due_median:.2f} (median of {len(figures.due)})",
            f"{statistics.median(figures.messages):.0f} messages",
            f"< {DUE_TARGET:.0f} s",
            figures.due_median < DUE_TARGET,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed passes of each kind")
    parser.add_argument("--profile", action="store_true", help="profile one pass with work")
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the temp dir
    table = Table()
    with tempfile.TemporaryDirectory(prefix="execbot-bench-") as tmp:
        sqlite = run_backend(
            "SQLite", sqlite_engine(Path(tmp), "escalation.db"), options.runs, options.profile
        )
    for row in rows(sqlite):
        table.add(row)
    reason = "--no-postgres" if options.no_postgres else postgres_unavailable()
    if reason:
        say(f"PostgreSQL skipped: {reason}")
    else:
        postgres = run_backend("PostgreSQL", postgres_engine(), options.runs, options.profile)
        for row in rows(postgres):
            table.add(row)
    say("")
    say(table.render())
    missed = [row.figure for row in table.rows if row.met is False]
    if missed:
        say("TARGET MISSED: " + "; ".join(missed))


if __name__ == "__main__":
    main()
