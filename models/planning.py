"""The daily planner: which duty is due for whom on a day, with UTC nudge and due instants.

Rules:
- A duty goes to one person (``person_id``) or to a post in a unit (``post`` + ``unit_id``):
  then every active holder of that post in exactly that unit gets it. Inactive duties and
  inactive people are left out.
- ``day`` is each person's local calendar day; times are resolved in the person's time zone.
- Shift schedules (``{ shift = ... }``) follow the person's crew: the day is the day the shift
  starts, and weekends and holidays do not apply unless the schedule sets
  ``include_days_off = false``. All other schedules follow the work calendar.
- Absent people still get their rows, marked ``absent=True``; the shell never nudges them.
- Output order: duties in input order, holders in input order. One row per (duty, person, day).
- Given a ``failures`` list, a (duty, person, day) whose times cannot be worked out (a value
  the import refuses that reached the store anyway) is recorded there as a ``PlanFailure``
  and left out, and the rest is planned; without one the error is raised.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from models.calendar import AbsenceIndex, WorkCalendar
from models.due import DueSpec, check_times, nudge_time_for, resolve_times
from models.schedule import OnShift, Schedule
from models.shifts import ShiftConfig, ShiftKind, shift_window


@dataclass(frozen=True, slots=True)
class PlanPerson:
    id: int
    key: str
    unit_id: int
    post: str
    tz: str
    crew: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class PlanDuty:
    id: int
    key: str
    person_id: int | None
    post: str | None
    unit_id: int | None
    schedule: Schedule
    nudge_time: time | None
    due: DueSpec
    active: bool = True

    def __post_init__(self) -> None:
        to_person = self.post is None and self.unit_id is None
        to_post = self.post is not None and self.unit_id is not None
        if not (to_person if self.person_id is not None else to_post):
            raise ValueError(
                f"duty {self.key!r}: assign it to one person, or to a post in a unit (not both)"
            )
        try:
            check_times(self.schedule, self.nudge_time, self.due)
        except ValueError as error:
            raise ValueError(f"duty {self.key!r}: {error}") from None


@dataclass(frozen=True, slots=True)
class PlanFailure:
    duty_id: int
    duty_key: str
    person_id: int
    person_key: str
    day: date
    error: Exception


@dataclass(frozen=True, slots=True)
class PlannedOccurrence:
    duty_id: int
    person_id: int
    day: date
    nudge_at: datetime  # UTC
    due_at: datetime  # UTC
    absent: bool


def plan_day(
    day: date,
    people: Iterable[PlanPerson],
    duties: Iterable[PlanDuty],
    calendar: WorkCalendar,
    shifts: ShiftConfig,
    absences: AbsenceIndex,
) -> list[PlannedOccurrence]:
    return plan_range([day], people, duties, calendar, shifts, absences)


def plan_range(
    days: Iterable[date],
    people: Iterable[PlanPerson],
    duties: Iterable[PlanDuty],
    calendar: WorkCalendar,
    shifts: ShiftConfig,
    absences: AbsenceIndex,
    failures: list[PlanFailure] | None = None,
) -> list[PlannedOccurrence]:
    """Plan several days (e.g. the next seven for /week), day by day in the given order."""
    roster = _Roster(people)
    active_duties = [duty for duty in duties if duty.active]
    planned: list[PlannedOccurrence] = []
    for day in days:
        plan = _DayPlan(day, calendar, shifts, absences, failures)
        planned.extend(plan.run(active_duties, roster))
    return planned


class _Roster:
    """Active people by id and by (unit_id, post)."""

    def __init__(self, people: Iterable[PlanPerson]) -> None:
        self.by_id: dict[int, PlanPerson] = {}
        self.by_post: dict[tuple[int, str], list[PlanPerson]] = {}
        for person in people:
            if person.active:
                self.by_id[person.id] = person
                self.by_post.setdefault((person.unit_id, person.post), []).append(person)

    def holders(self, duty: PlanDuty) -> Sequence[PlanPerson]:
        if duty.person_id is not None:
            person = self.by_id.get(duty.person_id)
            return () if person is None else (person,)
        assert duty.unit_id is not None and duty.post is not None  # checked by PlanDuty
        return self.by_post.get((duty.unit_id, duty.post), ())


class _DayPlan:
    """One day's planning, caching crew shifts and time conversions."""

    def __init__(
        self,
        day: date,
        calendar: WorkCalendar,
        shifts: ShiftConfig,
        absences: AbsenceIndex,
        failures: list[PlanFailure] | None = None,
    ) -> None:
        self.day = day
        self.failures = failures
        self.calendar = calendar
        self.shifts = shifts
        self.absent = absences.absent_on(day)
        self.crew_shifts: dict[str, ShiftKind | None] = {}
        self.times: dict[
            tuple[str, time, DueSpec, ShiftKind | None], tuple[datetime, datetime]
        ] = {}

    def run(self, duties: Iterable[PlanDuty], roster: _Roster) -> list[PlannedOccurrence]:
        planned = []
        for duty in duties:
            holders = roster.holders(duty)
            if not holders:
                continue
            on_shift = isinstance(duty.schedule, OnShift)
            try:
                if not on_shift and not duty.schedule.occurs_on(self.day, self.calendar, None):
                    continue
            except Exception as error:
                self.failed(duty, holders[0], error)
                continue
            for person in holders:
                try:
                    if not on_shift:
                        planned.append(self.occurrence(duty, person, None))
                        continue
                    shift = self.shift_of(person)
                    if duty.schedule.occurs_on(self.day, self.calendar, shift):
                        planned.append(self.occurrence(duty, person, shift))
                except Exception as error:
                    self.failed(duty, person, error)
        return planned

    def failed(self, duty: PlanDuty, person: PlanPerson, error: Exception) -> None:
        if self.failures is None:
            raise error
        failure = PlanFailure(duty.id, duty.key, person.id, person.key, self.day, error)
        self.failures.append(failure)

    def shift_of(self, person: PlanPerson) -> ShiftKind | None:
        if person.crew is None:
            return None
        if person.crew not in self.crew_shifts:
            self.crew_shifts[person.crew] = self.shifts.shift_for(person.crew, self.day)
        return self.crew_shifts[person.crew]

    def occurrence(
        self, duty: PlanDuty, person: PlanPerson, shift: ShiftKind | None
    ) -> PlannedOccurrence:
        nudge_time = nudge_time_for(duty.schedule, duty.nudge_time, shift)
        key = (person.tz, nudge_time, duty.due, shift)
        times = self.times.get(key)
        if times is None:
            window = None if shift is None else shift_window(shift, self.day, person.tz)
            times = resolve_times(self.day, nudge_time, duty.due, person.tz, window)
            self.times[key] = times
        absent = person.key in self.absent
        return PlannedOccurrence(duty.id, person.id, self.day, times[0], times[1], absent)
