"""Planning pass: turn the org (duties, people, shifts, calendar, absences) into stored
occurrences for the coming days. Gather, decide (``models.planning`` and ``models.replan``),
apply. Idempotent: the unique key (duty, person, day) makes a rerun harmless.

A duty, person or occurrence that cannot be planned (a stored value the import would refuse)
is left out and reported once (``bot.services.problems``); everybody else is planned."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.services import escalation, problems
from bot.services.calendar import work_calendar
from bot.store import absences, org, planning
from bot.store.engine import session_scope
from models.calendar import Absence, AbsenceIndex, zone
from models.due import DueSpec, parse_due
from models.planning import PlanDuty, PlanFailure, PlannedOccurrence, PlanPerson, plan_range
from models.policies import Policy, policy_from_json
from models.replan import reconcile
from models.schedule import Schedule, parse_schedule
from models.shifts import ShiftConfig, parse_shifts
from models.tables import Duty

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlanResult:
    created: int
    updated: int
    skipped_duties: tuple[str, ...] = ()


def planning_days(now: datetime, plant_tz: str) -> list[date]:
    """Yesterday (night shifts that end today), today and tomorrow, in the plant's calendar.
    A day or two of margin covers every timezone a person may be in."""
    today = now.astimezone(ZoneInfo(plant_tz)).date()
    return [today + timedelta(days=offset) for offset in (-1, 0, 1)]


@dataclass(frozen=True, slots=True)
class Org:
    people: list[PlanPerson]
    duties: list[PlanDuty]
    shifts: ShiftConfig
    skipped: tuple[str, ...]
    stored_duties: Sequence[planning.DutyFacts]
    left_out: list[problems.Problem] = field(default_factory=list)  # people and duties
    held_people: frozenset[int] = frozenset()  # ids of those left out: their stored rows
    held_duties: frozenset[int] = frozenset()  # stay as they are until they can be planned


def load_org(session: Session, settings: Settings) -> Org:
    """The org as the pure planner wants it. A duty whose stored spec no longer parses (it
    was valid at import), or a person whose time zone cannot be read, is left out and named
    in ``left_out``, rather than stopping the whole plan."""
    facts = planning.planning_facts(session)
    timezone_of = org.timezones(session, settings.plant.timezone)
    found: list[problems.Problem] = []
    people, held_people, held_duties = [], set(), set()
    for p in facts.people:
        try:
            tz = timezone_of(p.timezone, p.unit_id)
            zone(tz)
        except Exception as error:
            found.append(problems.problem("planning", f"person {p.key}", error))
            held_people.add(p.id)
            continue
        people.append(PlanPerson(p.id or 0, p.key, p.unit_id, p.post, tz, p.crew))
    shifts = parse_shifts(facts.shifts) if facts.shifts else ShiftConfig({}, {}, {})
    duties, skipped = [], []
    specs = _Specs(shifts)
    for duty in facts.duties:
        try:
            duties.append(specs.plan_duty(duty))
        except Exception as exc:
            skipped.append(duty.key)
            held_duties.add(duty.id)
            found.append(problems.problem("planning", f"duty {duty.key}", exc))
    known_crews = set(shifts.crews)
    people = [p if p.crew in known_crews else _without_crew(p) for p in people]
    return Org(
        people,
        duties,
        shifts,
        tuple(skipped),
        facts.duties,
        found,
        frozenset(held_people),
        frozenset(held_duties),
    )


def _without_crew(person: PlanPerson) -> PlanPerson:
    if person.crew is None:
        return person
    log.error("person %s names unknown crew %s; shift duties skip them", person.key, person.crew)
    return PlanPerson(person.id, person.key, person.unit_id, person.post, person.tz, None)


def plan_duty(duty: Duty | planning.DutyFacts, shifts: ShiftConfig) -> PlanDuty:
    return _Specs(shifts).plan_duty(duty)


Spec = tuple[Schedule, time | None, DueSpec]


class _Specs:
    """Duties as the planner wants them, each distinct (schedule, nudge, due) parsed once: a
    plant's tens of thousands of duties share a few dozen."""

    def __init__(self, shifts: ShiftConfig) -> None:
        self.codes = set(shifts.kinds)
        self.parsed: dict[tuple[str, str | None, str], Spec] = {}

    def plan_duty(self, duty: Duty | planning.DutyFacts) -> PlanDuty:
        schedule, nudge_time, due = self.spec(duty.schedule, duty.nudge_time, duty.due)
        return PlanDuty(
            id=duty.id or 0,
            key=duty.key,
            person_id=duty.person_id,
            post=duty.post if duty.person_id is None else None,
            unit_id=duty.unit_id if duty.person_id is None else None,
            schedule=schedule,
            nudge_time=nudge_time,
            due=due,
        )

    def spec(self, schedule: object, nudge_time: str | None, due: str) -> Spec:
        key = (repr(schedule), nudge_time, due)  # repr tells stored JSON values apart
        found = self.parsed.get(key)
        if found is None:
            found = self.parsed[key] = (
                parse_schedule(schedule, self.codes),
                time.fromisoformat(nudge_time) if nudge_time else None,
                parse_due(due),
            )
        return found


def absence_index(session: Session, days: list[date]) -> AbsenceIndex:
    rows = absences.absences_between(session, min(days), max(days))
    keys = org.person_keys(session, sorted({row.person_id for row in rows}))
    return AbsenceIndex(
        Absence(keys[row.person_id], row.start, row.end) for row in rows if row.person_id in keys
    )


class _Snapshots:
    """The escalation policy copied onto each new occurrence (the duty's, else its unit's,
    else the default), with urgency and the first step's time."""

    def __init__(self, session: Session, settings: Settings, now: datetime, loaded: Org) -> None:
        self.settings, self.now = settings, now
        units = org.unit_keys(session)
        self.parent = {unit_id: parent_id for unit_id, parent_id, _ in units}
        self.unit_key = {unit_id: key for unit_id, _, key in units}
        self.person_unit = {person.id: person.unit_id for person in loaded.people}
        self.duties = {d.id: (d.policy, d.urgent) for d in loaded.stored_duties}
        # one snapshot (and its parsed form) per (duty policy, unit), shared by its rows
        self.cache: dict[tuple[str | None, int], tuple[dict[str, Any], Policy]] = {}
        # and what a row gets, with its first step, per (snapshot, urgency, due instant, status)
        self.first: dict[tuple[str | None, bool, int, datetime, str], planning.Extras] = {}
        self.unreadable: list[problems.Problem] = []  # stored snapshots that do not parse

    def unit_keys(self, unit_id: int | None) -> list[str]:
        keys: list[str] = []
        while unit_id is not None and unit_id in self.unit_key and len(keys) <= len(self.unit_key):
            keys.append(self.unit_key[unit_id])
            unit_id = self.parent.get(unit_id)
        return keys

    def extras(self, planned: PlannedOccurrence, status: str) -> planning.Extras:
        duty_policy, urgent = self.duties[planned.duty_id]
        unit = self.person_unit.get(planned.person_id, 0)
        when = (duty_policy, urgent, unit, planned.due_at, status)
        found = self.first.get(when)
        if found is None:
            key = (duty_policy, unit)
            if key not in self.cache:
                snapshot = escalation.policy_for(self.settings, duty_policy, self.unit_keys(unit))
                self.cache[key] = (snapshot, policy_from_json(snapshot))
            snapshot, parsed = self.cache[key]
            first = escalation.first_step_at(parsed, planned.due_at, status, self.now)
            found = self.first[when] = planning.Extras(snapshot, urgent, first)
        return found

    def replanned(self, row: planning.Replan) -> planning.NextStep | None:
        """Re-schedule a re-planned row's climb; a stored policy snapshot that cannot be read
        leaves the row's climb as it was (the escalation pass reports it too), and so does a
        row without one."""
        if not row.policy:
            return None
        try:
            first = escalation.first_step_at(row.policy, row.due_at, row.status, self.now)
        except Exception as error:
            item = f"occurrence {row.id}"
            self.unreadable.append(problems.problem("planning", item, error))
            return None
        return planning.NextStep(first)


class _Collector:
    """Python's cyclic garbage collector, paused while a pass runs.

    A pass holds a few hundred thousand small objects at once (rows read, occurrences
    planned); every 25% of growth the collector walks them all, holding the interpreter
    lock: at 10,000 people that was a quarter of a first pass's CPU and two fifths of a
    rerun's, in pauses of up to half a second during which the event loop (taps) cannot
    run. The pass makes no reference cycles worth collecting; what it frees goes by
    reference counting. Paused while any pass runs (in any thread), resumed when the last
    one ends, unless it was off before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.passes = 0
        self.resume = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self.lock:
            if self.passes == 0:
                self.resume = gc.isenabled()
                gc.disable()
            self.passes += 1
        try:
            yield
        finally:
            with self.lock:
                self.passes -= 1
                if self.passes == 0 and self.resume:
                    gc.enable()


_collector = _Collector()


def plan(engine: Engine, settings: Settings, now: datetime) -> PlanResult:
    """Plan the coming days; returns what was created and re-planned."""
    with _collector.paused():
        return _plan(engine, settings, now)


def _plan(engine: Engine, settings: Settings, now: datetime) -> PlanResult:
    days = planning_days(now, settings.plant.timezone)
    calendar = work_calendar(settings, sorted({d.year for d in days}))
    with session_scope(engine) as session:
        if not planning.try_planning_lock(session):
            return PlanResult(0, 0)
        org = load_org(session, settings)
        failures: list[PlanFailure] = []
        planned = plan_range(
            days,
            org.people,
            org.duties,
            calendar,
            org.shifts,
            absence_index(session, days),
            failures,
        )
        # what could not be planned is not "no longer planned": its stored rows stay as they are
        failed = {(f.duty_id, f.person_id, f.day) for f in failures}
        stored = [
            row
            for row in planning.stored_occurrences(session, days)
            if row.person_id not in org.held_people
            and row.duty_id not in org.held_duties
            and row.key not in failed
        ]
        changes = reconcile(planned, stored, now)
        snapshot = _Snapshots(session, settings, now, org)
        planning.write_plan(session, changes, now, snapshot.extras, snapshot.replanned)
        problems.report(
            session,
            settings,
            org.left_out + _duty_problems(failures) + snapshot.unreadable,
            now,
        )
    if changes.create or changes.update:
        log.info("planned %d new, re-planned %d", len(changes.create), len(changes.update))
    skipped = (*org.skipped, *sorted({f.duty_key for f in failures} - set(org.skipped)))
    return PlanResult(len(changes.create), len(changes.update), skipped)


def _duty_problems(failures: list[PlanFailure]) -> list[problems.Problem]:
    """One problem per duty and cause (a duty fails alike for its holders and days)."""
    found: dict[tuple[str, str], problems.Problem] = {}
    for failure in failures:
        who = f"{failure.person_key} on {failure.day}"
        log.debug("planning %s for %s failed: %s", failure.duty_key, who, failure.error)
        item = problems.problem("planning", f"duty {failure.duty_key}", failure.error)
        found.setdefault((item.item, item.cause), item)
    return list(found.values())
