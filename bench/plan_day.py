"""Planning time for a large plant: 10,000 people / 30,000 duties (target < 3 s) and 33,000
people / 100,000 duties (target < 10 s), on SQLite and on PostgreSQL.

Method. An org TOML is generated and imported with ``bot.services.org_import.import_org``
into a fresh SQLite file (WAL) in a temp dir, and into a fresh schema of PostgreSQL's ``test``
database when 127.0.0.1:5432 answers (``EXECBOT_TEST_POSTGRES_URL`` overrides the URL); the
import is timed and printed on its own.  Then ``bot.services.planning.plan`` runs for one day
(now = Tuesday 2026-11-17 05:00 in Berlin, before any nudge of the day), twice: the first run
creates the rows (yesterday, today and tomorrow are planned; only occurrences still ahead are
created), the second finds nothing to change.  Target: each run under the size's target, in
wall-clock seconds (CPU seconds are printed beside them).

While the first run goes on, a probe on its own connection writes one small row change (what a
tap's commit amounts to) every 20 ms and records how long each write waited: on SQLite, one
writer at a time, this shows whether the pass holds the write lock for long.  Target: the
longest wait < 0.5 s.

The first run goes, as ``Runtime.call`` runs a pass, in a worker thread beside an event loop
that wakes every 10 ms: how late each wake-up comes is what a tap waits before its handler may
start (the pass holds the interpreter lock while it computes; the loop gets it back at the
next switch, 5 ms, unless one call into C holds it longer).  Target: the latest wake-up under
0.1 s late.  For reference, the same loop is timed for 3 s with no pass beside it: on a busy
machine the operating system alone delays wake-ups.

The org: a plant, 10 workshops (one in New York), 100 teams of equal size, four shift crews
in one workshop.  Each person holds about three duties assigned to them by key, with a mix of
schedules (workdays, daily, two weekdays, monthdays, cron; shift duties for crew people) and
nudge times from 06:00 to 15:30; each team also has one duty for every holder of its
"operator" post, and 1% of the people are on leave this week.

    .venv/bin/python bench/plan_day.py                     # both sizes, both databases
    .venv/bin/python bench/plan_day.py --quick             # 2,000 people / 6,000 duties
    .venv/bin/python bench/plan_day.py --people 20000 --duties 60000 --backend sqlite
    .venv/bin/python bench/plan_day.py --quick --profile /tmp/prof   # cProfile of each run
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bench.common import (
    Row,
    Table,
    import_file,
    postgres_engine,
    postgres_unavailable,
    say,
    sqlite_engine,
)
from bot.config import Settings
from bot.services.planning import plan
from models.tables import Occurrence

IMPORT_AT = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
PLAN_AT = datetime(2026, 11, 17, 4, 0, tzinfo=UTC)  # 05:00 in Berlin, a Tuesday
WORKSHOPS, TEAMS = 10, 100
SHIFT_WORKSHOP = 7  # its people are on crews A-D
SCHEDULES = (  # by duty number modulo 20: (schedule, nudge); None = the TOML default
    *[(None, True)] * 12,  # workdays
    *[('"daily"', True)] * 4,
    *[('{ weekdays = ["mon", "thu"] }', True)] * 2,
    ("{ monthdays = [1, 15, -1] }", True),
    ('{ cron = "30 7 * * 1-5" }', False),
)
SHIFTS = """
[shifts.kinds]
D = { start = "06:00", end = "18:00" }
N = { start = "18:00", end = "06:00" }
[shifts.patterns.four-crew]
cycle = ["D", "D", "N", "N", "-", "-", "-", "-"]
anchor = "2026-01-05"
[shifts.crews]
A = { pattern = "four-crew", offset = 0 }
B = { pattern = "four-crew", offset = 2 }
C = { pattern = "four-crew", offset = 4 }
D = { pattern = "four-crew", offset = 6 }
"""


# --- the org ------------------------------------------------------------------------------------


def team_of(person: int, people: int) -> int:
    return person * TEAMS // people


def on_shifts(team: int) -> bool:
    return team * WORKSHOPS // TEAMS == SHIFT_WORKSHOP


def units_toml(people: int) -> list[str]:
    out = ['[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\nleader = "p0"\n']
    for w in range(WORKSHOPS):
        tz = 'timezone = "America/New_York"\n' if w == WORKSHOPS - 1 else ""
        out.append(
            f'[[units]]\nkey = "w{w}"\nname = "Workshop {w}"\nkind = "workshop"\n'
            f'parent = "plant"\n{tz}'
        )
    for t in range(TEAMS):
        leader = -(-t * people // TEAMS)  # the team's first person
        out.append(
            f'[[units]]\nkey = "t{t}"\nname = "Team {t}"\nkind = "team"\n'
            f'parent = "w{t * WORKSHOPS // TEAMS}"\nleader = "p{leader}"\n'
        )
    return out


def people_toml(people: int) -> list[str]:
    out = []
    for i in range(people):
        team = team_of(i, people)
        post = "operator" if i % 5 else "fitter"
        crew = f'crew = "{"ABCD"[i % 4]}"\n' if on_shifts(team) else ""
        out.append(
            f'[[people]]\nkey = "p{i}"\nname = "Person {i}"\nunit = "t{team}"\n'
            f'post = "{post}"\n{crew}'
        )
    return out


def duties_toml(people: int, duties: int) -> list[str]:
    out = []
    for t in range(TEAMS):  # one duty per team for every operator in it
        out.append(
            f'[[duties]]\nkey = "team-{t}"\ntitle = "Team round {t}"\npost = "operator"\n'
            f'unit = "t{t}"\nnudge = "07:00"\ndue = "09:00"\n'
        )
    for j in range(duties - TEAMS):
        person = j % people
        out.append(f'[[duties]]\nkey = "d{j}"\ntitle = "Duty {j}"\nassignee = "p{person}"\n')
        if on_shifts(team_of(person, people)) and j // people == 0:
            out.append('schedule = { shift = "any" }\ndue = "end-of-shift"\n')
            continue
        schedule, nudged = SCHEDULES[j % len(SCHEDULES)]
        if schedule is not None:
            out.append(f"schedule = {schedule}\n")
        if nudged:
            minutes = 6 * 60 + 30 * (j % 20)
            out.append(f'nudge = "{minutes // 60:02d}:{minutes % 60:02d}"\n')
        out.append('due = "+2h"\n')
    return out


def absences_toml(people: int) -> list[str]:
    return [
        f'[[absences]]\nperson = "p{i}"\nfrom = "2026-11-16"\nto = "2026-11-20"\n'
        for i in range(1, people, 100)
    ]


def org_toml(people: int, duties: int) -> str:
    parts = [
        SHIFTS,
        *units_toml(people),
        *people_toml(people),
        *duties_toml(people, duties),
        *absences_toml(people),
    ]
    return "\n".join(parts)


# --- the measurement ----------------------------------------------------------------------------

SIZES = ((10_000, 30_000, 3.0), (33_000, 100_000, 10.0))  # people, duties, target (s)
QUICK = (2_000, 6_000, 3.0)
PROBE_EVERY = 0.02  # seconds between two probe writes
PROBE_TARGET = 0.5  # the longest a probe write may wait (s)
TICK = 0.01  # seconds between two wake-ups of the event loop beside the pass
LAG_TARGET = 0.1  # the latest a wake-up may come (s)
IDLE_LOOP = 3.0  # seconds the loop is timed alone, for reference


@dataclass
class PlanFigures:
    backend: str
    people: int
    duties: int
    target: float
    import_seconds: float
    first_seconds: float
    first_cpu: float
    created: int
    second_seconds: float
    second_cpu: float
    second_changes: int
    stored: int
    probe_writes: int = 0
    probe_longest: float = 0.0
    probe_failed: int = 0
    lags: tuple[float, ...] = ()  # how late each wake-up of the loop beside the first run came
    idle_lags: tuple[float, ...] = ()  # and of the same loop with nothing beside it

    @property
    def met(self) -> bool:
        return max(self.first_seconds, self.second_seconds) < self.target

    @property
    def probe_met(self) -> bool:
        return self.probe_writes > 0 and self.probe_longest < PROBE_TARGET and not self.probe_failed

    @property
    def lag_met(self) -> bool:
        return bool(self.lags) and max(self.lags) < LAG_TARGET


class Probe:
    """A tap's worth of writing, every ``PROBE_EVERY`` s on its own connection, while a pass
    runs: how long each commit took from its first statement (waiting included)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.failed = engine, 0
        self.waits: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="probe", daemon=True)

    def run(self) -> None:
        statement = text(
            "UPDATE person SET updated_at = :now WHERE id = (SELECT MIN(id) FROM person)"
        )
        while not self.stop.wait(PROBE_EVERY):
            began = time.perf_counter()
            try:
                with self.engine.begin() as conn:
                    conn.execute(statement, {"now": datetime.now(UTC)})
            except OperationalError:  # SQLite's busy timeout ran out: the lock was held 10 s
                self.failed += 1
            self.waits.append(time.perf_counter() - began)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def timed_plan(
    engine: Engine, settings: Settings, profile: Path | None
) -> tuple[float, float, int, int]:
    """Wall and CPU seconds of one ``plan``, and what it created and updated."""
    profiler = cProfile.Profile() if profile else None
    began, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = plan(engine, settings, PLAN_AT)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    if profiler and profile:
        profiler.dump_stats(profile)
        say(f"  profile written to {profile}")
    return elapsed, cpu, result.created, result.updated


async def ticking(lags: list[float], done: asyncio.Event) -> None:
    """Wake every ``TICK`` until ``done``, noting how late each wake-up came (s)."""
    loop = asyncio.get_running_loop()
    while not done.is_set():
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        lags.append(max(0.0, loop.time() - due))


def idle_lags() -> list[float]:
    """The loop's wake-ups for ``IDLE_LOOP`` seconds with nothing beside it."""

    async def run() -> list[float]:
        lags: list[float] = []
        done = asyncio.Event()
        asyncio.get_running_loop().call_later(IDLE_LOOP, done.set)
        await ticking(lags, done)
        return lags

    return asyncio.run(run())


def timed_in_thread(
    engine: Engine, settings: Settings, profile: Path | None
) -> tuple[tuple[float, float, int, int], list[float]]:
    """``timed_plan`` in a worker thread, as the bot runs a pass, beside an event loop that
    wakes every ``TICK``: the pass's figures and how late each wake-up came (s)."""

    async def run() -> tuple[tuple[float, float, int, int], list[float]]:
        lags: list[float] = []
        done = asyncio.Event()
        tick = asyncio.create_task(ticking(lags, done))
        try:
            return await asyncio.to_thread(timed_plan, engine, settings, profile), lags
        finally:
            done.set()
            await tick

    return asyncio.run(run())


def measure(
    engine: Engine,
    org: Path,
    backend: str,
    size: tuple[int, int, float],
    profile: Path | None = None,
) -> PlanFigures:
    """Import ``org`` into ``engine``'s empty database, then plan twice."""
    people, duties, target = size
    settings = Settings.model_validate({})
    began = time.perf_counter()
    import_file(engine, org, IMPORT_AT)
    imported = time.perf_counter() - began
    say(f"import of {people} people, {duties} duties ({backend}): {imported:.2f} s")
    tag = f"{backend}-{people}"
    idle = idle_lags()
    with Probe(engine) as probe:
        (first, cpu1, created, updated), lags = timed_in_thread(
            engine, settings, profile and profile / f"{tag}-first.prof"
        )
    say(
        f"plan, first run: {first:.2f} s ({cpu1:.2f} s CPU), "
        f"{created} occurrences created, {updated} updated"
    )
    say(f"event loop beside it: {len(lags)} wake-ups, {late(lags)} (alone: {late(idle)})")
    longest = max(probe.waits, default=0.0)
    say(
        f"writes beside it: {len(probe.waits)}, longest wait {1000 * longest:.0f} ms"
        + (f", {probe.failed} timed out" if probe.failed else "")
    )
    second, cpu2, created2, updated2 = timed_plan(
        engine, settings, profile and profile / f"{tag}-second.prof"
    )
    say(
        f"plan, second run: {second:.2f} s ({cpu2:.2f} s CPU), "
        f"{created2} created, {updated2} updated"
    )
    with engine.connect() as conn:
        stored = int(conn.execute(select(func.count()).select_from(Occurrence)).scalar_one())
    say(f"occurrences stored: {stored}")
    figures = PlanFigures(
        backend,
        people,
        duties,
        target,
        imported,
        first,
        cpu1,
        created,
        second,
        cpu2,
        created2 + updated2,
        stored,
        len(probe.waits),
        longest,
        probe.failed,
        tuple(lags),
        tuple(idle),
    )
    if not figures.met:
        say(f"TARGET MISSED: planning took more than {target:.0f} s")
    if not figures.probe_met:
        say(f"TARGET MISSED: a write beside the pass waited {longest:.2f} s")
    if not figures.lag_met:
        say(f"TARGET MISSED: the event loop beside the pass woke {max(lags, default=0):.2f} s late")
    return figures


def late(lags: Sequence[float]) -> str:
    """How late the loop's wake-ups came: the latest and the 99th percentile."""
    return f"latest {1000 * max(lags, default=0):.0f} ms, p99 {1000 * percentile(lags, 0.99):.0f}"


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench(workdir: Path, options: argparse.Namespace) -> PlanFigures:
    """One size on SQLite (``--plan-people``, ``--plan-duties``): what ``nudge_wave.py`` runs."""
    size = (options.plan_people, options.plan_duties, target_for(options.plan_duties))
    org = write_org(workdir, size)
    try:
        with sqlite_engine(workdir, "plan-day.db") as engine:
            return measure(engine, org, "SQLite", size)
    finally:
        org.unlink()


def write_org(workdir: Path, size: tuple[int, int, float]) -> Path:
    org = workdir / f"org-{size[0]}-{size[1]}.toml"
    org.write_text(org_toml(size[0], size[1]))
    return org


def target_for(duties: int) -> float:
    """3 s up to 30,000 duties, 10 s up to 100,000; beyond, in proportion."""
    return 3.0 if duties <= 30_000 else max(10.0, 10.0 * duties / 100_000)


def row(figures: PlanFigures) -> Row:
    where = f" ({figures.backend})" if figures.backend != "SQLite" else ""
    return Row(
        f"plan {thousands(figures.people)} people / {thousands(figures.duties)} duties{where} (s)",
        f"{figures.first_seconds:.2f}, rerun {figures.second_seconds:.2f}",
        f"({figures.created} rows)",
        f"< {figures.target:.0f} s",
        figures.met,
    )


def probe_row(figures: PlanFigures) -> Row:
    return Row(
        f"  write beside it, longest wait ({figures.backend})",
        f"{1000 * figures.probe_longest:.0f} ms of {figures.probe_writes}",
        f"({figures.probe_failed} timed out)" if figures.probe_failed else "",
        f"< {1000 * PROBE_TARGET:.0f} ms",
        figures.probe_met,
    )


def lag_row(figures: PlanFigures) -> Row:
    return Row(
        f"  event loop beside it, latest wake-up ({figures.backend})",
        late(figures.lags),
        f"alone: {late(figures.idle_lags)}",
        f"< {1000 * LAG_TARGET:.0f} ms",
        figures.lag_met,
    )


def thousands(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``nudge_wave.py`` takes for its planning figure."""
    parser.add_argument("--plan-people", type=int, default=10_000)
    parser.add_argument("--plan-duties", type=int, default=30_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--people", type=int, help="one size: this many people (with --duties)")
    parser.add_argument("--duties", type=int, help="one size: this many duties (with --people)")
    parser.add_argument("--quick", action="store_true", help="2,000 people / 6,000 duties")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--profile", type=Path, help="write a cProfile file of each run here")
    options = parser.parse_args()
    if (options.people is None) != (options.duties is None):
        parser.error("give --people and --duties together")
    if options.people is not None:
        sizes = [(options.people, options.duties, target_for(options.duties))]
    else:
        sizes = [QUICK] if options.quick else list(SIZES)
    if options.profile:
        options.profile.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the temp dir
    table = Table()
    with tempfile.TemporaryDirectory(prefix="execbot-bench-") as tmp:
        workdir = Path(tmp)
        skip = None if options.backend != "both" else postgres_unavailable()
        for size in sizes:
            org = write_org(workdir, size)
            if options.backend in ("both", "sqlite"):
                say(f"\n== {size[0]} people, {size[1]} duties, SQLite ==")
                with sqlite_engine(workdir, f"plan-{size[0]}.db") as engine:
                    figures = measure(engine, org, "SQLite", size, options.profile)
                add_rows(table, figures)
            if options.backend == "postgres" or (options.backend == "both" and not skip):
                say(f"\n== {size[0]} people, {size[1]} duties, PostgreSQL ==")
                with postgres_engine() as engine:
                    figures = measure(engine, org, "PostgreSQL", size, options.profile)
                add_rows(table, figures)
            org.unlink()
        if skip:
            say(f"\nPostgreSQL skipped: {skip}")
    say("\n(imports are timed above and are not part of the targets)\n" + table.render())


def add_rows(table: Table, figures: PlanFigures) -> None:
    table.add(row(figures))
    table.add(probe_row(figures))
    table.add(lag_row(figures))


if __name__ == "__main__":
    main()
