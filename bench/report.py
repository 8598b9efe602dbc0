"""The supervision figures (``bot/store/figures.py``) of a plant of 10,000 people: a month's
(about 660,000 occurrences) and a year's (about 8 million). Targets: a month under 2 s, a year
under 15 s, for every unit and every person of the plant (what a plant-wide report needs).

Method. A fresh database (SQLite file in a temp dir; PostgreSQL in a fresh schema when
127.0.0.1:5432 answers, ANALYZE after the fill) holds a plant of 10 workshops of 10 teams of
100 people (``--people`` scales the teams), three duties a person and one occurrence per duty
and working day (22 a month, 261 a year; ``--days`` sets how many are stored, the year's
by default only with ``--year``). Statuses are a fixed random mix as of the end of the period:
70% done (a fifth of them late), 8% blocked (a reply with a category each), 4% promised for
later, 2% excused, 3% absent, the rest open with the escalation ended. Replies: one per done,
blocked and later occurrence. Then ``unit_figures`` (every unit) and ``person_figures`` (every
person) run after one warm-up call, three times each: the median wall time is the figure.

    .venv/bin/python bench/report.py            # a month, both databases (a few minutes)
    .venv/bin/python bench/report.py --quick    # 1,000 people, a month, SQLite only
    .venv/bin/python bench/report.py --year     # a year as well (8 million rows: long)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.common import Row, Table, postgres_engine, postgres_unavailable, say, sqlite_engine
from bot.store.figures import person_figures, unit_figures
from models.tables import Duty, Occurrence, Person, Reply, Unit

FIRST = date(2025, 12, 1)
DUTIES, TEAMS, WORKSHOPS, CHUNK = 3, 10, 10, 20_000
STATUSES = [("done", 70), ("blocked", 8), ("late", 4), ("excused", 2), ("absent", 3), ("open", 13)]
STAMP = {
    "created_at": datetime(2025, 11, 1, tzinfo=UTC),
    "updated_at": datetime(2025, 11, 1, tzinfo=UTC),
}


def working_days(count: int) -> list[date]:
    days: list[date] = []
    day = FIRST
    while len(days) < count:
        if day.isoweekday() <= 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def plant(people: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    units = [{"id": 1, "key": "plant", "name": "Plant", "kind": "plant", "parent_id": None}]
    team_size = max(1, people // (WORKSHOPS * TEAMS))
    persons: list[dict[str, Any]] = []
    for w in range(WORKSHOPS):
        shop = len(units) + 1
        units.append({"id": shop, "key": f"w{w}", "name": f"W{w}", "kind": "workshop",
                      "parent_id": 1})  # fmt: skip
        for t in range(TEAMS):
            team = len(units) + 1
            units.append({"id": team, "key": f"w{w}t{t}", "name": f"T{t}", "kind": "team",
                          "parent_id": shop})  # fmt: skip
            for _ in range(team_size):
                pid = len(persons) + 1
                persons.append({"id": pid, "key": f"p{pid}", "name": f"P{pid}", "unit_id": team,
                                "post": "operator", "language": "en"})  # fmt: skip
    return units, persons


def rows(persons: list[dict[str, Any]], days: list[date]) -> Iterator[tuple[list[Any], list[Any]]]:
    """Chunks of (occurrences, replies)."""
    rng = random.Random(14)
    names, weights = zip(*STATUSES, strict=True)
    occurrences: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []
    oid = rid = 0
    for day in days:
        base = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        for p in persons:
            for duty in range(1, DUTIES + 1):
                oid += 1
                status = rng.choices(names, weights)[0]
                due = base + timedelta(hours=2 * duty)
                done_at = due + timedelta(
                    minutes=rng.choice((-30, -10, 20)) if status == "done" else 0
                )
                occurrences.append(
                    {"id": oid, "duty_id": duty, "person_id": p["id"], "day": day, "number": duty,
                     "nudge_at": base, "due_at": due, "status": status, "status_at": done_at,
                     "nudge_state": "queued", "created_at": base, "escalation_ended": True,
                     "promised_at": due + timedelta(hours=1) if status == "late" else None}
                )  # fmt: skip
                kind = {"done": "done", "blocked": "blocked", "late": "later"}.get(status)
                if kind is not None:
                    rid += 1
                    replies.append(
                        {"id": rid, "occurrence_id": oid, "person_id": p["id"], "kind": kind,
                         "category": rng.choice(("waiting", "materials", "help", "other"))
                         if kind == "blocked" else None,
                         "new_due_at": due + timedelta(hours=1) if kind == "later" else None,
                         "via": "button", "created_at": done_at}
                    )  # fmt: skip
                if len(occurrences) >= CHUNK:
                    yield occurrences, replies
                    occurrences, replies = [], []
    if occurrences:
        yield occurrences, replies


def fill(engine: Engine, people: int, days: list[date]) -> tuple[float, int]:
    started, count = time.perf_counter(), 0
    units, persons = plant(people)
    with engine.begin() as conn:
        conn.execute(insert(Unit), [u | STAMP for u in units])
        conn.execute(insert(Person), [p | STAMP for p in persons])
        duties = [{"id": d, "key": f"d{d}", "title": f"Duty {d}", "post": "operator"} | STAMP
                  for d in range(1, DUTIES + 1)]  # fmt: skip
        conn.execute(insert(Duty), duties)
    for occurrences, replies in rows(persons, days):
        with engine.begin() as conn:
            conn.execute(insert(Occurrence), occurrences)
            if replies:
                conn.execute(insert(Reply), replies)
        count += len(occurrences)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started, count


def timed(call: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """Median wall and CPU seconds of ``call`` after one warm-up call."""
    call()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def measure(engine: Engine, name: str, days: list[date], target: float, table: Table) -> None:
    now = datetime(days[-1].year, days[-1].month, days[-1].day, 22, tzinfo=UTC)
    with Session(engine) as session:
        units, units_cpu = timed(lambda: unit_figures(session, days[0], days[-1], now))
        people, people_cpu = timed(lambda: person_figures(session, days[0], days[-1], now))
    for what, wall, cpu in (("every unit", units, units_cpu), ("every person", people, people_cpu)):
        table.add(Row(f"{name}, {what}", f"{wall:.2f} s ({cpu:.2f} s CPU)", "",
                      f"< {target:g} s", wall < target))  # fmt: skip


def run(label: str, engine: Engine, people: int, day_count: int, table: Table, year: bool) -> None:
    days = working_days(day_count)
    took, count = fill(engine, people, days)
    say(f"{label}: {count:,} occurrences, {people:,} people, {len(days)} days: {took:.1f} s")
    measure(engine, f"{label} month", days[:22], 2.0, table)
    if year:
        measure(engine, f"{label} year", days, 15.0, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 people, SQLite only")
    parser.add_argument("--year", action="store_true", help="a year as well (261 working days)")
    args = parser.parse_args()
    people = 1_000 if args.quick else args.people
    day_count = 261 if args.year else 22
    table = Table()
    with tempfile.TemporaryDirectory() as tmp, sqlite_engine(Path(tmp), "report.db") as engine:
        run("SQLite", engine, people, day_count, table, args.year)
    if not args.quick:
        reason = postgres_unavailable()
        if reason:
            say(f"PostgreSQL skipped: {reason}")
        else:
            with postgres_engine() as engine:
                run("PostgreSQL", engine, people, day_count, table, args.year)
    say()
    say(table.render())


if __name__ == "__main__":
    main()
