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

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import NamedTuple

from models.calendar import AbsenceIndex, WorkCalendar
from models.due import DueSpec, check_times, nudge_time_for, resolve_times
from models.schedule import Cron, OnShift, Schedule
from models.shifts import ShiftConfig, ShiftKind, shift_window


class PlanPerson(NamedTuple):
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


class PlannedOccurrence(NamedTuple):
    """One planned row. A named tuple rather than a dataclass: a plant's pass makes a hundred
    thousand, and a tuple is made several times faster."""

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
    work = _work(duties, _Roster(people))
    planned: list[PlannedOccurrence] = []
    for day in days:
        plan = _DayPlan(day, calendar, shifts, absences, failures)
        planned.extend(plan.run(work))
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


@dataclass(frozen=True, slots=True)
class _Work:
    """An active duty with holders, as every day plans it. Duties that share a schedule, or
    a nudge and due rule, share its number here, so each day works those out once."""

    duty: PlanDuty
    holders: Sequence[PlanPerson]
    on_shift: bool
    schedule: int  # the number of the duty's schedule among the distinct ones
    timing: int  # the number of its (nudge time, cron time, due) among the distinct ones


def _work(duties: Iterable[PlanDuty], roster: _Roster) -> list[_Work]:
    schedules = _Numbers()
    dues = _Numbers()
    timings: dict[tuple[time | None, time | None, int], int] = {}
    work = []
    for duty in duties:
        holders = roster.holders(duty) if duty.active else ()
        if not holders:
            continue
        schedule = duty.schedule
        cron_at = schedule.at if isinstance(schedule, Cron) else None
        timing = (duty.nudge_time, cron_at, dues.number(duty.due))
        work.append(
            _Work(
                duty,
                holders,
                isinstance(schedule, OnShift),
                schedules.number(schedule),
                timings.setdefault(timing, len(timings)),
            )
        )
    return work


class _Numbers:
    """Numbers for distinct values (equal values, one number). Duties that share a schedule
    mostly share one object (the shell parses each distinct spec once), so an object seen
    before is found by identity, without hashing the dataclass again."""

    def __init__(self) -> None:
        self.by_value: dict[Hashable, int] = {}
        self.by_id: dict[int, tuple[Hashable, int]] = {}  # the value kept: its id stays its own

    def number(self, value: Hashable) -> int:
        known = self.by_id.get(id(value))
        if known is not None:
            return known[1]
        number = self.by_value.setdefault(value, len(self.by_value))
        self.by_id[id(value)] = (value, number)
        return number


class _DayPlan:
    """One day's planning, caching what duties share: whether a schedule occurs, crew
    shifts, and time conversions."""

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
        self.occurs: dict[int, bool] = {}  # by schedule number
        self.crew_shifts: dict[str, ShiftKind | None] = {}
        # (nudge, due) by timing number and time zone, for schedules that do not follow shifts
        self.zones: dict[int, dict[str, tuple[datetime, datetime]]] = {}
        # and by (time zone, timing number, shift code) for those that do
        self.times: dict[tuple[str, int, str | None], tuple[datetime, datetime]] = {}

    def run(self, work: Iterable[_Work]) -> list[PlannedOccurrence]:
        planned: list[PlannedOccurrence] = []
        add, day, absent = planned.append, self.day, self.absent
        for item in work:
            duty = item.duty
            if item.on_shift:
                for person in item.holders:
                    try:
                        shift = self.shift_of(person)
                        if duty.schedule.occurs_on(day, self.calendar, shift):
                            add(self.occurrence(item, person, shift))
                    except Exception as error:
                        self.failed(duty, person, error)
                continue
            occurs = self.occurs.get(item.schedule)
            if occurs is None:
                try:
                    occurs = self.occurs_on(item)
                except Exception as error:
                    self.failed(duty, item.holders[0], error)
                    continue
            if not occurs:
                continue
            # the duty's times by time zone: most holders find theirs worked out already
            zones = self.zones.get(item.timing)
            if zones is None:
                zones = self.zones[item.timing] = {}
            for person in item.holders:
                times = zones.get(person.tz)
                if times is None:
                    try:
                        times = zones[person.tz] = self.times_for(item, person.tz, None)
                    except Exception as error:
                        self.failed(duty, person, error)
                        continue
                add(PlannedOccurrence(duty.id, person.id, day, *times, person.key in absent))
        return planned

    def occurs_on(self, item: _Work) -> bool:
        """Whether a schedule that does not follow shifts occurs on the day (asked once)."""
        occurs = self.occurs.get(item.schedule)
        if occurs is None:
            occurs = self.occurs[item.schedule] = item.duty.schedule.occurs_on(
                self.day, self.calendar, None
            )
        return occurs

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
        self, item: _Work, person: PlanPerson, shift: ShiftKind | None
    ) -> PlannedOccurrence:
        key = (person.tz, item.timing, None if shift is None else shift.code)
        times = self.times.get(key)
        if times is None:
            times = self.times[key] = self.times_for(item, person.tz, shift)
        absent = person.key in self.absent
        return PlannedOccurrence(item.duty.id, person.id, self.day, times[0], times[1], absent)

    def times_for(self, item: _Work, tz: str, shift: ShiftKind | None) -> tuple[datetime, datetime]:
        """The UTC nudge and due instants of ``item`` on the day in time zone ``tz``."""
        duty = item.duty
        nudge_time = nudge_time_for(duty.schedule, duty.nudge_time, shift)
        window = None if shift is None else shift_window(shift, self.day, tz)
        return resolve_times(self.day, nudge_time, duty.due, tz, window)
