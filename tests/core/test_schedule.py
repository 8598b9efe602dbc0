import re
import tomllib
from datetime import date, time, timedelta

import pytest

from models.calendar import WorkCalendar
from models.due import DueAfter, DueAt, DueEndOfShift, check_times, nudge_time_for, parse_due
from models.schedule import (
    Cron,
    Daily,
    Monthdays,
    Once,
    OnShift,
    Schedule,
    Weekdays,
    Workdays,
    parse_cron,
    parse_schedule,
)
from models.shifts import ShiftKind

CALENDAR = WorkCalendar(
    holidays={date(2026, 12, 25): "Christmas Day", date(2026, 6, 30): "Plant day"},
    extra_working_days=frozenset({date(2026, 12, 19)}),  # a Saturday
)
DAY = ShiftKind("D", time(6), time(18))
NIGHT = ShiftKind("N", time(18), time(6))


def days_in(schedule: Schedule, first: date, last: date, shift: ShiftKind | None = None):
    found = []
    day = first
    while day <= last:
        if schedule.occurs_on(day, CALENDAR, shift):
            found.append(day.isoformat())
        day += timedelta(days=1)
    return found


def december(*days: int) -> list[str]:
    return [date(2026, 12, day).isoformat() for day in days]


DEC_FIRST, DEC_LAST = date(2026, 12, 1), date(2026, 12, 31)  # Dec 1 is a Tuesday


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Workdays()),
        ("workdays", Workdays()),
        (" Daily ", Daily()),
        ({"weekdays": ["mon", "Thu"]}, Weekdays(frozenset({1, 4}))),
        ({"weekdays": ["sat"], "include_days_off": True}, Weekdays(frozenset({6}), True)),
        ({"monthdays": [1, 15, -1]}, Monthdays(frozenset({1, 15, -1}))),
        ({"monthdays": ["last-working"]}, Monthdays(frozenset(), last_working=True)),
        ({"shift": "any"}, OnShift("any")),
        ({"shift": "N", "include_days_off": False}, OnShift("N", include_days_off=False)),
        ({"once": "2026-12-01"}, Once(date(2026, 12, 1))),
        ({"once": date(2026, 12, 1)}, Once(date(2026, 12, 1))),
    ],
)
def test_parse_schedule(value, expected):
    assert parse_schedule(value) == expected


def test_parse_schedules_from_toml_text():
    text = """
    a = "workdays"
    b = { weekdays = ["mon", "thu"], include_days_off = true }
    c = { monthdays = [1, 15, -1, "last-working"] }
    d = { cron = "30 7 * * 1-5" }
    e = { shift = "N" }
    f = { once = 2026-12-01 }
    """
    parsed = {key: parse_schedule(value) for key, value in tomllib.loads(text).items()}
    assert parsed == {
        "a": Workdays(),
        "b": Weekdays(frozenset({1, 4}), include_days_off=True),
        "c": Monthdays(frozenset({1, 15, -1}), last_working=True),
        "d": parse_cron("30 7 * * 1-5"),
        "e": OnShift("N"),
        "f": Once(date(2026, 12, 1)),
    }


# --- which days each kind fires on (December 2026) -------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (
            Workdays(),
            december(1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24)
            + december(28, 29, 30, 31),
        ),
        (Daily(), december(*range(1, 32))),
        (Weekdays(frozenset({1, 4})), december(3, 7, 10, 14, 17, 21, 24, 28, 31)),
        (Weekdays(frozenset({5})), december(4, 11, 18)),  # Christmas Friday skipped
        (Weekdays(frozenset({5}), include_days_off=True), december(4, 11, 18, 25)),
        (Weekdays(frozenset({6})), december(19)),  # only the extra working Saturday
        (Monthdays(frozenset({1, 15})), december(1, 15)),
        (Monthdays(frozenset({5, 25})), []),  # a Saturday and Christmas
        (Monthdays(frozenset({5, 25}), include_days_off=True), december(5, 25)),
        (Monthdays(frozenset({-1})), december(31)),
        (Monthdays(frozenset({-7})), []),  # the 25th is a holiday
        (Monthdays(frozenset({-7}), include_days_off=True), december(25)),
        (Monthdays(frozenset(), last_working=True), december(31)),
        (Once(date(2026, 12, 1)), december(1)),
        (Once(date(2026, 12, 25)), december(25)),
        (Once(date(2026, 12, 25), include_days_off=False), []),
        (Once(date(2027, 12, 1)), []),
    ],
)
def test_days_of_each_kind_in_december(schedule, expected):
    assert days_in(schedule, DEC_FIRST, DEC_LAST) == expected


@pytest.mark.parametrize(
    ("schedule", "month", "expected"),
    [
        (Monthdays(frozenset({31})), 4, []),  # April has no 31st
        (Monthdays(frozenset({-1})), 4, ["2026-04-30"]),
        (Monthdays(frozenset({-1})), 2, []),  # Feb 28 is a Saturday
        (Monthdays(frozenset({-1}), include_days_off=True), 2, ["2026-02-28"]),
        (Monthdays(frozenset(), last_working=True), 2, ["2026-02-27"]),
        (Monthdays(frozenset(), last_working=True), 5, ["2026-05-29"]),
        (Monthdays(frozenset(), last_working=True), 6, ["2026-06-29"]),  # 30th is a holiday
        (Monthdays(frozenset({29, -1})), 2, []),  # no Feb 29 in 2026, 28th Saturday
    ],
)
def test_monthdays_edges(schedule, month, expected):
    first = date(2026, month, 1)
    last = date(2026, month + 1, 1) - timedelta(days=1)
    assert days_in(schedule, first, last) == expected


@pytest.mark.parametrize(
    ("schedule", "shift", "occurs"),
    [
        (OnShift("any"), DAY, True),
        (OnShift("any"), NIGHT, True),
        (OnShift("any"), None, False),
        (OnShift("N"), NIGHT, True),
        (OnShift("N"), DAY, False),
        (OnShift("D"), None, False),
    ],
)
def test_shift_schedule_follows_the_shift(schedule, shift, occurs):
    assert schedule.occurs_on(date(2026, 12, 21), CALENDAR, shift) is occurs


def test_shift_schedule_ignores_the_calendar_unless_told():
    christmas = date(2026, 12, 25)
    assert OnShift("any").occurs_on(christmas, CALENDAR, NIGHT)
    assert not OnShift("any", include_days_off=False).occurs_on(christmas, CALENDAR, NIGHT)


# --- cron ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days_off", "expected"),
    [
        ("30 7 * * 1-5", False, december(1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21)),
        ("30 7 * * mon-fri", True, december(1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21)),
        ("0 9 1,15 * *", False, december(1, 15)),
        ("0 9 10-12 * *", False, december(10, 11)),  # the 12th is a Saturday
        ("0 9 10-12 * *", True, december(10, 11, 12)),
        ("0 9 1-21/7 * *", False, december(1, 8, 15)),
        ("0 9 5/10 * *", True, december(5, 15)),  # 5 then every 10th day to the month's end
        ("0 9 * * 0", True, december(6, 13, 20)),  # Sunday as 0
        ("0 9 * * 7", True, december(6, 13, 20)),  # Sunday as 7
        ("0 9 * * SUN", True, december(6, 13, 20)),
        ("0 9 * * fri-7", True, december(4, 5, 6, 11, 12, 13, 18, 19, 20)),
        ("0 9 * * mon-fri/2", False, december(2, 4, 7, 9, 11, 14, 16, 18, 21)),
        ("0 9 * * */3", True, december(2, 5, 6, 9, 12, 13, 16, 19, 20)),  # 0,3,6: sun, wed, sat
        # both day fields restricted: either matches (the 1st, or any Friday)
        ("0 9 1 * fri", True, december(1, 4, 11, 18)),
        # day-of-month starts with '*': both must match (odd days that are Fridays)
        ("0 9 */2 * fri", True, december(11)),
        ("0 9 * jan-mar *", True, []),
        ("0 9 * DEC *", False, december(1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 19, 21)),
        ("0 9 * 1,12 sat", False, december(19)),  # the extra working Saturday
    ],
)
def test_cron_days(text, days_off, expected):
    schedule = parse_cron(text, include_days_off=days_off)
    assert days_in(schedule, DEC_FIRST, date(2026, 12, 21)) == expected


def test_cron_gives_the_nudge_time():
    cron = parse_schedule({"cron": "30 7 * * 1-5"})
    assert isinstance(cron, Cron)
    assert cron.at == time(7, 30)
    assert nudge_time_for(cron, None, None) == time(7, 30)
    assert parse_cron("05 00 * * *").at == time(0, 5)


def test_cron_from_table_with_include_days_off():
    cron = parse_schedule({"cron": "0 9 * * *", "include_days_off": True})
    assert cron.occurs_on(date(2026, 12, 25), CALENDAR, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("*/15 7 * * *", "cron: the minute must be a single number 0..59 because it sets the"),
        ("30 7,8 * * *", "cron: the hour must be a single number 0..23 because it sets the nudge"),
        ("30 * * * *", "cron: the hour must be a single number"),
        ("60 7 * * *", "cron: the minute must be a single number 0..59"),
        ("30 24 * * *", "cron: the hour must be a single number 0..23"),
        ("30 7 * *", "cron: expected 5 fields 'minute hour day-of-month month day-of-week'"),
        ("30 7 * * * *", "cron: expected 5 fields"),
        ("@daily", "cron: expected 5 fields"),
        ("30 7 0 * *", "cron: bad day-of-month value '0' (expected 1..31)"),
        ("30 7 32 * *", "cron: bad day-of-month value '32' (expected 1..31)"),
        ("30 7 * 13 *", "cron: bad month value '13' (expected 1..12 or jan, feb,"),
        ("30 7 * * 8", "cron: bad day-of-week value '8' (expected 0..7 or sun, mon,"),
        ("30 7 * * funday", "cron: bad day-of-week value 'funday'"),
        ("30 7 * * fri-sun", "cron: range 'fri-sun' in day-of-week runs backwards"),
        ("30 7 20-10 * *", "cron: range '20-10' in day-of-month runs backwards"),
        ("30 7 */0 * *", "cron: bad day-of-month step value '0'"),
        ("30 7 1,,2 * *", "cron: bad day-of-month value ''"),
        ("30 7 L * *", "cron: bad day-of-month value 'L'"),
    ],
)
def test_cron_errors(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_cron(text)


# --- schedule errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("weekly", "schedule: unknown schedule 'weekly' (expected 'workdays', 'daily' or a table"),
        (5, "schedule: expected 'workdays', 'daily' or a table like"),
        ({"weekdays": ["mnday"]}, "schedule: unknown weekday 'mnday' (expected mon, tue, wed,"),
        ({"weekdays": "mon"}, 'schedule: weekdays must be a non-empty list like ["mon", "thu"]'),
        ({"weekdays": []}, "schedule: weekdays must be a non-empty list"),
        ({"monthdays": [0]}, "schedule: monthday 0 is out of range (expected 1..31, -1 for the"),
        ({"monthdays": [32]}, "schedule: monthday 32 is out of range"),
        ({"monthdays": [-32]}, "schedule: monthday -32 is out of range"),
        ({"monthdays": ["last"]}, "schedule: unknown monthday 'last' (expected 1..31"),
        ({"monthdays": [True]}, "schedule: unknown monthday True"),
        ({"cron": 5}, "schedule: cron must be text with 5 fields"),
        ({"shift": ""}, "schedule: shift must be a shift code or 'any'"),
        ({"once": "next week"}, "schedule.once: expected a date like '2026-12-01'"),
        ({"weekday": ["mon"]}, "schedule: unknown key 'weekday' (expected one of weekdays, "),
        ({"weekdays": ["mon"], "cron": "0 9 * * *"}, "got ['weekdays', 'cron']"),
        ({"include_days_off": True}, "schedule: give exactly one of"),
        ({"weekdays": ["mon"], "include_days_off": "yes"}, "include_days_off must be true or"),
    ],
)
def test_schedule_errors(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_schedule(value)


def test_schedule_error_names_the_expected_words_in_full():
    with pytest.raises(ValueError) as caught:
        parse_schedule({"weekdays": ["mon", "mnday"]})
    assert str(caught.value) == (
        "schedule: unknown weekday 'mnday' (expected mon, tue, wed, thu, fri, sat, sun)"
    )


def test_shift_code_checked_against_known_shifts():
    assert parse_schedule({"shift": "N"}, shift_codes={"D", "N"}) == OnShift("N")
    assert parse_schedule({"shift": "ANY"}, shift_codes={"D"}) == OnShift("any")
    with pytest.raises(ValueError, match=re.escape("unknown shift 'X' (expected one of D, any)")):
        parse_schedule({"shift": "X"}, shift_codes=["D"])


# --- due specs and nudge-time rules ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17:00", DueAt(time(17))),
        ("5:30", DueAt(time(5, 30))),
        (time(17), DueAt(time(17))),
        ("+4h", DueAfter(timedelta(hours=4))),
        ("+90m", DueAfter(timedelta(minutes=90))),
        ("+1h30m", DueAfter(timedelta(minutes=90))),
        ("end-of-shift", DueEndOfShift()),
        (" End-of-Shift ", DueEndOfShift()),
    ],
)
def test_parse_due(value, expected):
    assert parse_due(value) == expected


@pytest.mark.parametrize("value", ["", "tomorrow", "25:00", "+", "+0m", "-4h", "4h", 4, None])
def test_parse_due_errors(value):
    expected = "due: expected a time of day like '17:00', a delay like '+4h' or '+90m', or"
    with pytest.raises(ValueError, match=re.escape(expected)):
        parse_due(value)


@pytest.mark.parametrize(
    ("schedule", "nudge", "due", "message"),
    [
        (Workdays(), None, DueAt(time(17)), 'needs a nudge time like nudge = "07:30"'),
        (parse_cron("30 7 * * *"), time(8), DueAt(time(17)), "cron '30 7 * * *' already sets"),
        (Daily(), time(8), DueEndOfShift(), "'end-of-shift' needs a shift schedule like { shift"),
    ],
)
def test_check_times_errors(schedule, nudge, due, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_times(schedule, nudge, due)


@pytest.mark.parametrize(
    ("schedule", "nudge", "due"),
    [
        (Workdays(), time(8), DueAt(time(17))),
        (parse_cron("30 7 * * *"), None, DueAfter(timedelta(hours=2))),
        (OnShift("any"), None, DueEndOfShift()),
        (OnShift("N"), time(5), DueEndOfShift()),
    ],
)
def test_check_times_accepts(schedule, nudge, due):
    check_times(schedule, nudge, due)


@pytest.mark.parametrize(
    ("schedule", "nudge", "shift", "expected"),
    [
        (Workdays(), time(8), None, time(8)),
        (OnShift("any"), None, NIGHT, time(18)),
        (OnShift("any"), time(5), NIGHT, time(5)),
        (parse_cron("15 6 * * *"), None, DAY, time(6, 15)),
    ],
)
def test_nudge_time_for(schedule, nudge, shift, expected):
    assert nudge_time_for(schedule, nudge, shift) == expected
