from datetime import UTC, date, datetime, time, timedelta

import pytest

from models.calendar import Absence, AbsenceIndex, WorkCalendar
from models.due import DueAfter, DueAt, DueEndOfShift, DueSpec
from models.planning import PlanDuty, PlannedOccurrence, PlanPerson, plan_day, plan_range
from models.schedule import Once, OnShift, Schedule, Weekdays, Workdays, parse_cron, parse_schedule
from models.shifts import parse_shifts

BERLIN = "Europe/Berlin"
ANCHOR = date(2026, 1, 5)  # a Monday
MONDAY = date(2026, 12, 21)
CHRISTMAS = date(2026, 12, 25)
CALENDAR = WorkCalendar(holidays={CHRISTMAS: "Christmas Day"})
SHIFTS = parse_shifts(
    {
        "kinds": {"D": {"start": "06:00", "end": "18:00"}, "N": {"start": "18:00", "end": "06:00"}},
        "patterns": {"four": {"cycle": ["D", "D", "N", "N", "-", "-", "-", "-"], "anchor": ANCHOR}},
        "crews": {key: {"pattern": "four", "offset": 2 * n} for n, key in enumerate("ABCD")},
    }
)
NO_ABSENCES = AbsenceIndex()
NOON_DUE = DueAt(time(12))
WORKDAYS = Workdays()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def person(
    id: int,
    unit_id: int = 1,
    post: str = "operator",
    tz: str = BERLIN,
    crew: str | None = None,
    active: bool = True,
) -> PlanPerson:
    return PlanPerson(id, f"p{id}", unit_id, post, tz, crew, active)


def duty(
    id: int,
    schedule: Schedule = WORKDAYS,
    nudge: time | None = time(8),
    due: DueSpec = NOON_DUE,
    person_id: int | None = 1,
    post: str | None = None,
    unit_id: int | None = None,
    active: bool = True,
) -> PlanDuty:
    return PlanDuty(id, f"d{id}", person_id, post, unit_id, schedule, nudge, due, active)


def plan(day, people, duties, absences=NO_ABSENCES):
    return plan_day(day, people, duties, CALENDAR, SHIFTS, absences)


def test_person_duty_on_a_working_day():
    rows = plan(MONDAY, [person(1)], [duty(7)])
    assert rows == [
        PlannedOccurrence(7, 1, MONDAY, utc(2026, 12, 21, 7), utc(2026, 12, 21, 11), absent=False)
    ]


@pytest.mark.parametrize("day", [date(2026, 12, 19), date(2026, 12, 20), CHRISTMAS])
def test_workdays_duty_skips_weekends_and_holidays(day):
    assert plan(day, [person(1)], [duty(7)]) == []


def test_post_duty_goes_to_every_active_holder_in_exactly_that_unit():
    people = [
        person(1, unit_id=1),
        person(2, unit_id=1),
        person(3, unit_id=1, active=False),
        person(4, unit_id=2),  # same post, other unit
        person(5, unit_id=1, post="lead"),  # same unit, other post
    ]
    rows = plan(MONDAY, people, [duty(7, person_id=None, post="operator", unit_id=1)])
    assert [row.person_id for row in rows] == [1, 2]


def test_inactive_duties_and_people_are_left_out():
    people = [person(1), person(2, active=False)]
    duties = [duty(7, person_id=1, active=False), duty(8, person_id=2), duty(9, person_id=3)]
    assert plan(MONDAY, people, duties) == []


def test_absent_people_get_rows_marked_absent():
    absences = AbsenceIndex([Absence("p2", date(2026, 12, 14), MONDAY)])
    rows = plan(
        MONDAY,
        [person(1), person(2)],
        [duty(7, person_id=None, post="operator", unit_id=1)],
        absences,
    )
    assert [(row.person_id, row.absent) for row in rows] == [(1, False), (2, True)]


def test_times_are_in_each_persons_time_zone():
    people = [person(1), person(2, tz="America/New_York"), person(3, tz="Asia/Kolkata")]
    rows = plan(
        MONDAY,
        people,
        [duty(7, due=DueAfter(timedelta(hours=2)), person_id=None, post="operator", unit_id=1)],
    )
    assert [(row.nudge_at, row.due_at) for row in rows] == [
        (utc(2026, 12, 21, 7), utc(2026, 12, 21, 9)),
        (utc(2026, 12, 21, 13), utc(2026, 12, 21, 15)),
        (utc(2026, 12, 21, 2, 30), utc(2026, 12, 21, 4, 30)),
    ]


def test_cron_duty_nudges_at_the_cron_time():
    rows = plan(MONDAY, [person(1)], [duty(7, parse_cron("30 7 * * 1-5"), nudge=None)])
    assert [row.nudge_at for row in rows] == [utc(2026, 12, 21, 6, 30)]


# --- shift work ------------------------------------------------------------------------------


def crew_people():
    return [person(n, crew=crew) for n, crew in enumerate("ABCD", start=1)]


def test_shift_duty_follows_each_persons_crew_over_a_cycle():
    duties = [
        duty(
            7,
            OnShift("any"),
            nudge=None,
            due=DueEndOfShift(),
            person_id=None,
            post="operator",
            unit_id=1,
        )
    ]
    days = [ANCHOR + timedelta(days=n) for n in range(8)]
    rows = plan_range(days, crew_people(), duties, CALENDAR, SHIFTS, NO_ABSENCES)
    by_day = {day: sorted(row.person_id for row in rows if row.day == day) for day in days}
    expected = [[1, 4], [1, 4], [1, 2], [1, 2], [2, 3], [2, 3], [3, 4], [3, 4]]  # 1-4: crews A-D
    assert list(by_day.values()) == expected


def test_night_shift_duty_nudges_at_shift_start_and_is_due_next_morning():
    duties = [
        duty(7, OnShift("N"), nudge=None, due=DueEndOfShift(), person_id=1),
        duty(8, OnShift("N"), nudge=None, due=DueAt(time(5, 30)), person_id=1),
        duty(9, OnShift("N"), nudge=time(4), due=DueAfter(timedelta(minutes=30)), person_id=1),
    ]
    night = ANCHOR + timedelta(days=2)  # crew A's first night
    rows = plan(night, [person(1, crew="A")], duties)
    assert [(row.nudge_at, row.due_at) for row in rows] == [
        (utc(2026, 1, 7, 17), utc(2026, 1, 8, 5)),  # 18:00 -> 06:00 next day, Berlin winter
        (utc(2026, 1, 7, 17), utc(2026, 1, 8, 4, 30)),
        (utc(2026, 1, 8, 3), utc(2026, 1, 8, 3, 30)),  # 04:00 during the shift, next morning
    ]
    assert all(row.day == night for row in rows)


def test_shift_work_ignores_holidays_unless_the_schedule_says_so():
    christmas_day_crew = next(
        key for key in "ABCD" if (s := SHIFTS.shift_for(key, CHRISTMAS)) and s.code == "D"
    )
    people = [person(1, crew=christmas_day_crew)]
    duties = [
        duty(7, OnShift("D"), nudge=None, person_id=1),
        duty(8, OnShift("D", include_days_off=False), nudge=None, person_id=1),
        duty(9, Workdays(), person_id=1),  # calendar rules for a non-shift schedule
    ]
    assert [row.duty_id for row in plan(CHRISTMAS, people, duties)] == [7]


def test_person_without_a_crew_never_matches_a_shift_schedule():
    assert plan(MONDAY, [person(1)], [duty(7, OnShift("any"), nudge=None)]) == []


def test_unknown_crew_is_an_error():
    with pytest.raises(ValueError, match="shifts: unknown crew 'Z'"):
        plan(MONDAY, [person(1, crew="Z")], [duty(7, OnShift("any"), nudge=None)])


# --- clock changes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "change_day", "nudge", "expected"),
    [
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1)),
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7)),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_daily_nudge_fires_once_on_clock_change_days(tz, change_day, nudge, expected):
    days = [change_day + timedelta(days=n) for n in (-1, 0, 1)]
    duties = [duty(7, parse_schedule("daily"), nudge=nudge, due=DueAfter(timedelta(hours=4)))]
    rows = plan_range(days, [person(1, tz=tz)], duties, CALENDAR, SHIFTS, NO_ABSENCES)
    assert [row.day for row in rows] == days
    assert rows[1].nudge_at == expected
    assert rows[1].due_at - rows[1].nudge_at == timedelta(hours=4)


# --- validation and larger runs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"person_id": 1, "post": "operator", "unit_id": 1}, "duty 'd7': assign it to one person"),
        ({"person_id": None, "post": "operator"}, "duty 'd7': assign it to one person, or to a"),
        ({"person_id": None, "unit_id": 1}, "duty 'd7': assign it to one person"),
        ({"person_id": None}, "duty 'd7': assign it to one person"),
    ],
)
def test_duty_assignment_errors(kw, message):
    with pytest.raises(ValueError, match=message):
        duty(7, **kw)


def test_duty_time_errors_name_the_duty():
    with pytest.raises(ValueError, match="duty 'd7': needs a nudge time like nudge = \"07:30\""):
        duty(7, nudge=None)
    with pytest.raises(ValueError, match="duty 'd7': due 'end-of-shift' needs a shift schedule"):
        duty(7, due=DueEndOfShift())


def test_plan_range_for_a_week():
    week = [MONDAY + timedelta(days=n) for n in range(7)]
    duties = [duty(7), duty(8, Weekdays(frozenset({6}), include_days_off=True))]
    rows = plan_range(week, [person(1)], duties, CALENDAR, SHIFTS, NO_ABSENCES)
    expected = [(7, 21), (7, 22), (7, 23), (7, 24), (8, 26)]  # Christmas Friday is off
    assert [(row.duty_id, row.day.day) for row in rows] == expected


TIME_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata")


def test_ten_thousand_people_thirty_thousand_duties():
    """Counts only; timing is measured outside the test suite."""
    day = ANCHOR  # a Monday; crews A (day) and D (night) are on, B and C off
    people = [
        PlanPerson(
            id=i,
            key=f"p{i}",
            unit_id=i // 10,
            post="lead" if i % 10 == 0 else "operator",
            tz=TIME_ZONES[i % 3],
            crew="ABCD"[i % 4] if i % 10 >= 6 else None,
            active=i % 100 != 55,
        )
        for i in range(10_000)
    ]
    shift_people = [p.id for p in people if p.crew]
    due = DueAfter(timedelta(hours=2))
    duties = (
        [duty(k, Workdays(), due=due, person_id=k) for k in range(10_000)]
        + [duty(10_000 + k, Weekdays(frozenset({2})), person_id=k) for k in range(10_000)]
        + [
            duty(20_000 + k, person_id=None, post="operator", unit_id=k % 1000)
            for k in range(5_000)
        ]
        + [
            duty(25_000 + n, OnShift("any"), nudge=None, due=DueEndOfShift(), person_id=pid)
            for n, pid in enumerate(shift_people)
        ]
        + [duty(29_000 + k, Once(day), person_id=k) for k in range(1_000)]
    )
    assert len(people) == 10_000 and len(duties) == 30_000
    absences = AbsenceIndex(
        Absence(f"p{i}", day - timedelta(days=i % 5), day + timedelta(days=i % 3))
        for i in range(0, 10_000, 7)
    )

    rows = plan(day, people, duties, absences)

    inactive = sum(1 for p in people if not p.active)  # 100, all operators
    by_duty_range = {
        "workdays": sum(1 for r in rows if r.duty_id < 10_000),
        "tuesdays": sum(1 for r in rows if 10_000 <= r.duty_id < 20_000),
        "post": sum(1 for r in rows if 20_000 <= r.duty_id < 25_000),
        "shift": sum(1 for r in rows if 25_000 <= r.duty_id < 29_000),
        "once": sum(1 for r in rows if r.duty_id >= 29_000),
    }
    assert by_duty_range == {
        "workdays": 10_000 - inactive,
        "tuesdays": 0,
        "post": 5 * (900 * 9 + 100 * 8),  # 9 operators per unit, 8 where one is inactive
        "shift": 2_000,  # crews A and D: 2 of every 4 crew members
        "once": 990,
    }
    assert len(rows) == 57_390
    absent_ids = {i for i in range(0, 10_000, 7)}
    assert sum(r.absent for r in rows) == sum(1 for r in rows if r.person_id in absent_ids)
    assert sum(r.absent for r in rows) > 5_000
