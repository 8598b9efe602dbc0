from datetime import date, datetime, time, timedelta

import pytest

from models.calendar import (
    Absence,
    AbsenceIndex,
    AbsenceKind,
    DayKind,
    DayStatus,
    WorkCalendar,
    calendar_from_config,
    parse_clock,
    parse_date,
    parse_weekday,
)

CHRISTMAS = date(2026, 12, 25)  # a Friday
CALENDAR = WorkCalendar(
    holidays={CHRISTMAS: "Christmas Day", date(2026, 5, 1): "Labour Day"},
    days_off={date(2026, 12, 24): "Christmas Eve shutdown"},
    extra_working_days=frozenset({date(2026, 5, 1), date(2026, 12, 19)}),  # Fri holiday, a Sat
)


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2026, 12, 21), DayStatus(DayKind.WORKING)),  # Monday
        (date(2026, 12, 26), DayStatus(DayKind.WEEKEND)),  # Saturday
        (date(2026, 12, 27), DayStatus(DayKind.WEEKEND)),  # Sunday
        (CHRISTMAS, DayStatus(DayKind.HOLIDAY, "Christmas Day")),
        (date(2026, 12, 24), DayStatus(DayKind.PLANT_DAY_OFF, "Christmas Eve shutdown")),
        (date(2026, 12, 19), DayStatus(DayKind.EXTRA_WORKING_DAY)),  # worked Saturday
        (date(2026, 5, 1), DayStatus(DayKind.EXTRA_WORKING_DAY)),  # worked holiday
    ],
)
def test_day_kind_and_is_working_day_agree(day, status):
    assert CALENDAR.day_kind(day) == status
    assert CALENDAR.is_working_day(day) is status.working


def test_is_working_day_matches_day_kind_over_a_year():
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert CALENDAR.is_working_day(day) is CALENDAR.day_kind(day).working
        day += timedelta(days=1)


def test_custom_weekend():
    calendar = WorkCalendar(weekend=frozenset({5, 6}))  # Friday and Saturday
    assert not calendar.is_working_day(date(2026, 12, 25))
    assert calendar.is_working_day(date(2026, 12, 27))  # Sunday


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 1, date(2026, 1, 30)),  # 31st is a Saturday
        (2026, 5, date(2026, 5, 29)),  # 31st Sunday, 30th Saturday
        (2026, 6, date(2026, 6, 30)),  # Tuesday
        (2026, 12, date(2026, 12, 31)),  # Thursday
    ],
)
def test_last_working_day_of_month(year, month, expected):
    assert CALENDAR.last_working_day_of_month(year, month) == expected


def test_last_working_day_skips_holidays_and_honours_extra_days():
    calendar = WorkCalendar(
        holidays={date(2026, 4, 30): "Plant anniversary"},
        extra_working_days=frozenset({date(2026, 1, 31)}),
    )
    assert calendar.last_working_day_of_month(2026, 4) == date(2026, 4, 29)
    assert calendar.last_working_day_of_month(2026, 1) == date(2026, 1, 31)


def test_last_working_day_none_when_month_is_off():
    calendar = WorkCalendar(weekend=frozenset(range(1, 8)))
    assert calendar.last_working_day_of_month(2026, 2) is None


def test_calendar_is_not_changed_by_mutating_inputs():
    holidays = {CHRISTMAS: "Christmas Day"}
    calendar = WorkCalendar(holidays=holidays)
    holidays[date(2026, 12, 21)] = "late addition"
    assert calendar.is_working_day(date(2026, 12, 21))


def test_calendar_rejects_bad_weekend_and_conflicting_days():
    with pytest.raises(ValueError, match=r"weekend days must be 1\.\.7"):
        WorkCalendar(weekend=frozenset({0}))
    with pytest.raises(ValueError, match="2026-12-24 is both a plant day off and an extra"):
        WorkCalendar(
            days_off={date(2026, 12, 24): "x"}, extra_working_days=frozenset({date(2026, 12, 24)})
        )


def test_calendar_from_config():
    calendar = calendar_from_config(
        {
            "country": "DE",
            "weekend": ["fri", "sat"],
            "days_off": {"2026-12-24": "Christmas Eve shutdown"},
            "extra_working_days": ["2026-12-25", date(2026, 12, 26)],
        },
        {CHRISTMAS: "Christmas Day", date(2026, 12, 28): "Made-up Monday"},
    )
    assert calendar.weekend == {5, 6}
    assert calendar.day_kind(date(2026, 12, 24)) == DayStatus(
        DayKind.PLANT_DAY_OFF, "Christmas Eve shutdown"
    )
    assert calendar.is_working_day(CHRISTMAS)
    assert calendar.is_working_day(date(2026, 12, 26))
    assert calendar.is_working_day(date(2026, 12, 27))  # Sunday is not weekend here
    assert calendar.day_kind(date(2026, 12, 28)) == DayStatus(DayKind.HOLIDAY, "Made-up Monday")


def test_calendar_from_config_defaults_and_day_off_list():
    calendar = calendar_from_config({"days_off": ["2026-07-03"]}, {})
    assert calendar.weekend == {6, 7}
    assert calendar.day_kind(date(2026, 7, 3)) == DayStatus(DayKind.PLANT_DAY_OFF, "plant day off")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weekends": ["sun"]}, "calendar: unknown key 'weekends' \\(expected country, "),
        ({"weekend": "sun"}, "calendar.weekend: expected a list"),
        (
            {"weekend": ["sunday"]},
            "calendar.weekend: unknown weekday 'sunday' \\(expected mon, tue",
        ),
        ({"days_off": ["2026-13-01"]}, "calendar.days_off: expected a date like '2026-12-01'"),
        ({"days_off": {"2026-12-24": 1}}, "calendar.days_off: expected the reason as text"),
        ({"extra_working_days": ["soon"]}, "calendar.extra_working_days: expected a date like"),
    ],
)
def test_calendar_from_config_errors(data, message):
    with pytest.raises(ValueError, match=message):
        calendar_from_config(data, {})


def test_parse_helpers():
    assert parse_date("2026-12-01", "x") == date(2026, 12, 1)
    assert parse_clock("7:05", "x") == time(7, 5)
    assert parse_clock(time(23, 59), "x") == time(23, 59)
    assert parse_weekday(" Mon ", "x") == 1
    with pytest.raises(ValueError, match="x: expected a date"):
        parse_date(datetime(2026, 12, 1), "x")
    with pytest.raises(ValueError, match="x: expected a time of day like '07:30'"):
        parse_clock("24:00", "x")
    with pytest.raises(ValueError, match="x: expected a time of day"):
        parse_clock("7.30", "x")


# --- absences --------------------------------------------------------------------------------

ABSENCES = AbsenceIndex(
    [
        Absence("anna", date(2026, 7, 6), date(2026, 7, 17), AbsenceKind.LEAVE, "summer"),
        Absence("anna", date(2026, 3, 2), date(2026, 3, 2), AbsenceKind.SICK),
        Absence("bert", date(2026, 1, 1), date(2026, 12, 31), AbsenceKind.TRIP),
        Absence("bert", date(2026, 2, 1), date(2026, 2, 3), AbsenceKind.SICK),
    ]
)


@pytest.mark.parametrize(
    ("person", "day", "absent"),
    [
        ("anna", date(2026, 7, 5), False),
        ("anna", date(2026, 7, 6), True),  # first day inclusive
        ("anna", date(2026, 7, 17), True),  # last day inclusive
        ("anna", date(2026, 7, 18), False),
        ("anna", date(2026, 3, 2), True),  # one-day absence
        ("anna", date(2026, 3, 3), False),
        ("anna", date(2026, 1, 1), False),  # before every absence
        ("bert", date(2026, 6, 1), True),  # inside a long absence after a short one ended
        ("carl", date(2026, 7, 6), False),  # nobody recorded
    ],
)
def test_is_absent_boundaries(person, day, absent):
    assert ABSENCES.is_absent(person, day) is absent


def test_absence_on_returns_the_covering_absence():
    assert ABSENCES.absence_on("bert", date(2026, 2, 2)) == Absence(
        "bert", date(2026, 2, 1), date(2026, 2, 3), AbsenceKind.SICK
    )
    trip = ABSENCES.absence_on("bert", date(2026, 2, 4))
    assert trip is not None
    assert trip.kind is AbsenceKind.TRIP


def test_absence_must_not_end_before_it_starts():
    with pytest.raises(ValueError, match="absence of 'anna': ends 2026-07-01 before it starts"):
        Absence("anna", date(2026, 7, 2), date(2026, 7, 1))
