"""Planning time for a large plant: 10,000 people and 30,000 duties by default.

Method. An org TOML is generated and imported with ``bot.services.org_import.import_org``
into a fresh SQLite file (WAL) in a temp dir; the import is timed and printed on its own.  Then
``bot.services.planning.plan`` runs for one day (now = Tuesday 2026-11-17 05:00 in Berlin, before
any nudge of the day), twice: the first run creates the rows (yesterday, today and tomorrow
are planned; only occurrences still ahead are created), the second finds nothing to change.
Target: each run < 5 s.

The org: a plant, 10 workshops (one in New York), 100 teams of equal size, four shift crews
in one workshop.  Each person holds about three duties assigned to them by key, with a mix of
schedules (workdays, daily, two weekdays, monthdays, cron; shift duties for crew people) and
nudge times from 06:00 to 15:30; each team also has one duty for every holder of its
"operator" post, and 1% of the people are on leave this week.

    .venv/bin/python bench/plan_day.py                     # about a minute
    .venv/bin/python bench/plan_day.py --plan-people 2000 --plan-duties 6000
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bench.common import Row, import_file, say, sqlite_engine
from bot.config import Settings
from bot.services.planning import plan
from models.tables import Occurrence

IMPORT_AT = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
PLAN_AT = datetime(2026, 11, 17, 4, 0, tzinfo=UTC)  # 05:00 in Berlin, a Tuesday
TARGET_SECONDS = 5.0
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


@dataclass
class PlanFigures:
    people: int
    duties: int
    import_seconds: float
    first_seconds: float
    created: int
    second_seconds: float
    second_changes: int
    stored: int

    @property
    def met(self) -> bool:
        return max(self.first_seconds, self.second_seconds) < TARGET_SECONDS


def timed_plan(engine: Engine, settings: Settings) -> tuple[float, float, int, int]:
    """Wall and CPU seconds of one ``plan``, and what it created and updated."""
    began, cpu = time.perf_counter(), time.process_time()
    result = plan(engine, settings, PLAN_AT)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    return elapsed, cpu, result.created, result.updated


def bench(workdir: Path, options: argparse.Namespace) -> PlanFigures:
    people, duties = options.plan_people, options.plan_duties
    org = workdir / "big-org.toml"
    org.write_text(org_toml(people, duties))
    settings = Settings.model_validate({})
    with sqlite_engine(workdir, "plan-day.db") as engine:
        began = time.perf_counter()
        import_file(engine, org, IMPORT_AT)
        imported = time.perf_counter() - began
        say(f"import of {people} people, {duties} duties: {imported:.2f} s")
        first, cpu, created, updated = timed_plan(engine, settings)
        say(
            f"plan, first run: {first:.2f} s ({cpu:.2f} s CPU), "
            f"{created} occurrences created, {updated} updated"
        )
        second, cpu, created2, updated2 = timed_plan(engine, settings)
        say(
            f"plan, second run: {second:.2f} s ({cpu:.2f} s CPU), "
            f"{created2} created, {updated2} updated"
        )
        with engine.connect() as conn:
            stored = int(conn.execute(select(func.count()).select_from(Occurrence)).scalar_one())
    org.unlink()
    figures = PlanFigures(
        people, duties, imported, first, created, second, created2 + updated2, stored
    )
    say(f"occurrences stored: {stored}")
    if not figures.met:
        say(f"TARGET MISSED: planning took more than {TARGET_SECONDS:.0f} s")
    return figures


def row(figures: PlanFigures) -> Row:
    return Row(
        f"plan a day {thousands(figures.people)} people / {thousands(figures.duties)} duties (s)",
        f"{figures.first_seconds:.2f}, rerun {figures.second_seconds:.2f}",
        f"({figures.created} rows)",
        f"< {TARGET_SECONDS:.0f} s",
        figures.met,
    )


def thousands(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan-people", type=int, default=10_000)
    parser.add_argument("--plan-duties", type=int, default=30_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the temp dir
    with tempfile.TemporaryDirectory(prefix="execbot-bench-") as tmp:
        figures = bench(Path(tmp), options)
    say(f"\nimport {figures.import_seconds:.2f} s (not part of the target)")
    say(f"{'figure':<44} {'execbot':<26} target")
    r = row(figures)
    say(f"{r.figure:<44} {r.execbot:<26} {r.target}{'  ok' if r.met else '  TARGET MISSED'}")


if __name__ == "__main__":
    main()
