"""The leader's board (``/team`` and ``/overdue``) on a day of 300,000 occurrences: target under
200 ms for a 20-person team's leader, under 1 s for the head of a 5,000-person workshop.

Method. A fresh database (SQLite file in a temp dir; PostgreSQL in a fresh schema if
127.0.0.1:5432 answers, with ANALYZE after the fill, as autovacuum would do) is filled with
SQLAlchemy Core bulk inserts: a plant of 20 workshops (``--workshops``), each with a head, 10
sections and 25 teams of 20 people per section (5,001 people per workshop with its head; each
team's first member leads it), three duties and three occurrences per person, all on one day
(300,063 with 20 workshops). The statuses are a fixed random mix at 10:00: about 40% done, 5%
blocked, 5% promised for later, 2% excused, 3% absent, 45% without an answer; due times spread
from 07:00 to 17:00 (so many open items are past due); one past-due item in ten is taken by
somebody.

Then ``bot.services.board.team`` and ``board.overdue`` (the whole service: queries and the
rendered text) run for the team leader and the workshop head, several times each after one
warm-up call; the median wall time is the figure, with the length of the text (Telegram takes
at most 4,096 characters) and this process's CPU time per call. An admin's board (the whole
plant, every occurrence of the day counted) is measured too, without a target.

    .venv/bin/python bench/board.py            # both backends, a few minutes (mostly the fill)
    .venv/bin/python bench/board.py --quick    # 2 workshops (30,000 occurrences), SQLite only
"""

from __future__ import annotations

import argparse
import gc
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from bench.common import Row, Table, postgres_engine, postgres_unavailable, say, sqlite_engine
from bot.config import Settings
from bot.services import board
from models.tables import Duty, Leadership, Occurrence, Person, Unit

NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, a Tuesday
DAY = date(2026, 11, 17)
SECTIONS, TEAMS, TEAM_SIZE, DUTIES = 10, 25, 20, 3
TEAM_TARGET, WORKSHOP_TARGET = 0.2, 1.0
CHUNK = 5_000
STATUSES = [("done", 40), ("blocked", 5), ("late", 5), ("excused", 2), ("absent", 3), ("open", 45)]


@dataclass
class Plant:
    units: list[dict[str, Any]]
    people: list[dict[str, Any]]  # id and unit id
    leaders: list[dict[str, Any]]
    head: int  # the head of the first workshop (its whole subtree)
    team_leader: int  # the leader of the first team of the first workshop
    workshop_people: int
    team_people: int


def plant(workshops: int) -> Plant:
    units = [{"id": 1, "key": "plant", "name": "Plant", "kind": "plant", "parent_id": None}]
    people: list[dict[str, Any]] = [{"id": 1, "unit_id": 1}]
    leaders: list[dict[str, Any]] = [{"unit_id": 1, "role": "leader", "person_id": 1}]

    def unit(kind: str, parent: int) -> int:
        uid = len(units) + 1
        units.append(
            {"id": uid, "key": f"u{uid}", "name": f"{kind.title()} {uid}", "kind": kind,
             "parent_id": parent}
        )  # fmt: skip
        return uid

    def person(uid: int, role: str | None = None) -> int:
        pid = len(people) + 1
        people.append({"id": pid, "unit_id": uid})
        if role:
            leaders.append({"unit_id": uid, "role": role, "person_id": pid})
        return pid

    first_team: int | None = None
    for _ in range(workshops):
        shop = unit("workshop", 1)
        person(shop, "leader")
        for _ in range(SECTIONS):
            section = unit("section", shop)
            for _ in range(TEAMS):
                team = unit("team", section)
                first_team = first_team or team
                for member in range(TEAM_SIZE):
                    person(team, "leader" if member == 0 else None)
    head = next(r["person_id"] for r in leaders if r["unit_id"] == 2)
    team_leader = next(r["person_id"] for r in leaders if r["unit_id"] == first_team)
    return Plant(
        units, people, leaders, head, team_leader, 1 + SECTIONS * TEAMS * TEAM_SIZE, TEAM_SIZE
    )


def occurrence_rows(people: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(12)
    names, weights = zip(*STATUSES, strict=True)
    chunk: list[dict[str, Any]] = []
    oid = 0
    for p in people:
        for duty in range(1, DUTIES + 1):
            oid += 1
            status = rng.choices(names, weights)[0]
            due_at = NOW - timedelta(hours=3) + timedelta(minutes=rng.randrange(600))
            promised = (
                NOW + timedelta(minutes=rng.randrange(-60, 120)) if status == "late" else None
            )
            taken = status in ("open", "blocked", "late") and due_at < NOW and rng.random() < 0.1
            chunk.append(
                {"id": oid, "duty_id": duty, "person_id": p["id"], "day": DAY, "number": duty,
                 "nudge_at": NOW - timedelta(hours=3), "due_at": due_at, "status": status,
                 "status_at": NOW - timedelta(hours=2), "nudge_state": "queued",
                 "created_at": NOW - timedelta(hours=4), "policy": None, "urgent": False,
                 "reminders_sent": 0, "levels_done": 0, "escalation_ended": False,
                 "promised_at": promised, "acked_by": 1 if taken else None,
                 "acked_at": NOW - timedelta(minutes=5) if taken else None}
            )  # fmt: skip
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def fill(engine: Engine, org: Plant) -> tuple[float, int]:
    started = time.perf_counter()
    stamp = {"created_at": NOW, "updated_at": NOW}
    people = [
        {"id": p["id"], "key": f"p{p['id']}", "name": f"Person {p['id']}", "unit_id": p["unit_id"],
         "post": "operator", "telegram_user_id": 1_000_000 + p["id"], "language": "en"} | stamp
        for p in org.people
    ]  # fmt: skip
    duties = [
        {"id": d, "key": f"d{d}", "title": f"Duty number {d}", "post": "operator", "unit_id": 1,
         "due": "+4h"} | stamp
        for d in range(1, DUTIES + 1)
    ]  # fmt: skip
    count = 0
    with engine.begin() as conn:
        conn.execute(insert(Unit), [u | stamp for u in org.units])
        for start in range(0, len(people), CHUNK):
            conn.execute(insert(Person), people[start : start + CHUNK])
        conn.execute(insert(Leadership), org.leaders)
        conn.execute(insert(Duty), duties)
        for chunk in occurrence_rows(org.people):
            conn.execute(insert(Occurrence), chunk)
            count += len(chunk)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started, count


@dataclass
class Measured:
    view: str
    who: str
    seconds: list[float]
    cpu: list[float]  # this process's CPU time (on SQLite, the queries' too)
    length: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


VIEWERS = ("team leader", "workshop head", "admin")


def measure(engine: Engine, org: Plant, runs: int, admin_runs: int) -> list[Measured]:
    settings = Settings.model_validate({"access": {"admins": ["p1"]}})  # the plant manager
    out: list[Measured] = []
    for who, pid in zip(VIEWERS, (org.team_leader, org.head, 1), strict=True):
        for name, view in (("team", board.team), ("overdue", board.overdue)):
            view(engine, settings, pid, "en", NOW)  # warm up: the pool, the statement cache
            seconds, cpu, length = [], [], 0
            for _ in range(admin_runs if who == "admin" else runs):
                started, used = time.perf_counter(), time.process_time()
                shown = view(engine, settings, pid, "en", NOW)
                seconds.append(time.perf_counter() - started)
                cpu.append(time.process_time() - used)
                length = len(shown)
            out.append(Measured(name, who, seconds, cpu, length))
    return out


def run_backend(
    name: str, engine_cm: AbstractContextManager[Engine], org: Plant, runs: int
) -> list[Row]:
    with engine_cm as engine:
        seconds, count = fill(engine, org)
        say(
            f"[{name}] filled {count:,} occurrences on {DAY}, {len(org.people):,} people, "
            f"{len(org.units):,} units: {seconds:.1f} s"
        )
        gc.collect()  # the fill's garbage, not the boards', for the collector to walk
        figures = measure(engine, org, runs, admin_runs=min(runs, 2))
    sizes = dict(zip(VIEWERS, (org.team_people, org.workshop_people, len(org.people)), strict=True))
    targets = dict(zip(VIEWERS, (TEAM_TARGET, WORKSHOP_TARGET, None), strict=True))
    rows = []
    for m in figures:
        size, target = sizes[m.who], targets[m.who]
        runs_ms = ", ".join(f"{t * 1000:.0f}" for t in m.seconds)
        cpu_ms = ", ".join(f"{t * 1000:.0f}" for t in m.cpu)
        say(
            f"[{name}] /{m.view} for the {m.who} ({size:,} people): {runs_ms} ms "
            f"(CPU here {cpu_ms} ms), {m.length} chars"
        )
        rows.append(
            Row(
                f"{name}: /{m.view}, {m.who} {size:,} (ms)",
                f"{m.median * 1000:.0f} (median of {len(m.seconds)})",
                f"{count:,} occ., {m.length} ch",
                (f"< {target * 1000:.0f} ms, " if target else "none, ") + "<= 4096 ch",
                (target is None or m.median < target) and m.length <= 4096,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workshops", type=int, default=20, help="5,001 people each")
    parser.add_argument("--runs", type=int, help="timed calls of each board (5; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2 workshops, 3 runs, SQLite only")
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.workshops, options.no_postgres = 2, True
    runs = options.runs or (3 if options.quick else 5)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the temp dir
    org = plant(options.workshops)
    table = Table()
    with tempfile.TemporaryDirectory(prefix="execbot-bench-") as tmp:
        for row in run_backend("SQLite", sqlite_engine(Path(tmp), "board.db"), org, runs):
            table.add(row)
    reason = "--no-postgres or --quick" if options.no_postgres else postgres_unavailable()
    if reason:
        say(f"PostgreSQL skipped: {reason}")
    else:
        for row in run_backend("PostgreSQL", postgres_engine(), org, runs):
            table.add(row)
    say("")
    say(table.render())
    missed = [row.figure for row in table.rows if row.met is False]
    if missed:
        say("TARGET MISSED: " + "; ".join(missed))


if __name__ == "__main__":
    main()
