"""local_to_utc and resolve_times on ordinary days and on both clock-change days."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.calendar import local_to_utc, zone
from models.due import DueAfter, DueAt, DueEndOfShift, resolve_times

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
FOUR_HOURS = DueAfter(timedelta(hours=4))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "at", "tz", "expected"),
    [
        # ordinary days
        (date(2026, 1, 5), time(8, 0), BERLIN, utc(2026, 1, 5, 7, 0)),
        (date(2026, 7, 6), time(8, 0), BERLIN, utc(2026, 7, 6, 6, 0)),
        (date(2026, 1, 5), time(8, 0), NEW_YORK, utc(2026, 1, 5, 13, 0)),
        (date(2026, 1, 5), time(8, 0), "Asia/Kolkata", utc(2026, 1, 5, 2, 30)),
        # spring forward: the skipped 02:00-03:00 maps to 03:00 local, the end of the gap
        (date(2026, 3, 29), time(2, 0), BERLIN, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), time(2, 30), BERLIN, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), time(2, 59), BERLIN, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), time(1, 59), BERLIN, utc(2026, 3, 29, 0, 59)),
        (date(2026, 3, 29), time(3, 0), BERLIN, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 8), time(2, 30), NEW_YORK, utc(2026, 3, 8, 7, 0)),
        (date(2026, 3, 8), time(3, 0), NEW_YORK, utc(2026, 3, 8, 7, 0)),
        # fall back: a repeated time means its first occurrence (summer time)
        (date(2026, 10, 25), time(2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),
        (date(2026, 10, 25), time(3, 0), BERLIN, utc(2026, 10, 25, 2, 0)),
        (date(2026, 11, 1), time(1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30)),
        (date(2026, 11, 1), time(2, 0), NEW_YORK, utc(2026, 11, 1, 7, 0)),
    ],
)
def test_local_to_utc(day, at, tz, expected):
    assert local_to_utc(day, at, tz) == expected
    assert local_to_utc(day, at, ZoneInfo(tz)) == expected


@pytest.mark.parametrize(
    ("day", "at", "tz", "local_wall"),
    [
        (date(2026, 3, 29), time(2, 30), BERLIN, datetime(2026, 3, 29, 3, 0)),
        (date(2026, 3, 8), time(2, 30), NEW_YORK, datetime(2026, 3, 8, 3, 0)),
    ],
)
def test_spring_forward_nudge_goes_at_three_local(day, at, tz, local_wall):
    instant = local_to_utc(day, at, tz)
    assert instant.astimezone(zone(tz)).replace(tzinfo=None) == local_wall


def test_unknown_time_zone():
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Berlln'"):
        local_to_utc(date(2026, 1, 5), time(8), "Europe/Berlln")


@pytest.mark.parametrize(
    ("day", "nudge", "due", "tz", "expected"),
    [
        # a clock due time after the nudge: same day
        (date(2026, 1, 5), time(8), DueAt(time(17)), BERLIN, utc(2026, 1, 5, 16)),
        # not after the nudge: next calendar day
        (date(2026, 1, 5), time(18), DueAt(time(5, 30)), BERLIN, utc(2026, 1, 6, 4, 30)),
        (date(2026, 1, 5), time(8), DueAt(time(8)), BERLIN, utc(2026, 1, 6, 7)),
        # delays are real elapsed time, also across clock changes
        (date(2026, 1, 5), time(8), FOUR_HOURS, BERLIN, utc(2026, 1, 5, 11)),
        (date(2026, 3, 29), time(0, 30), FOUR_HOURS, BERLIN, utc(2026, 3, 29, 3, 30)),
        (date(2026, 10, 25), time(0, 30), FOUR_HOURS, BERLIN, utc(2026, 10, 25, 2, 30)),
        (date(2026, 3, 8), time(0, 30), FOUR_HOURS, NEW_YORK, utc(2026, 3, 8, 9, 30)),
        (date(2026, 11, 1), time(0, 30), FOUR_HOURS, NEW_YORK, utc(2026, 11, 1, 8, 30)),
        # a clock due time across spring forward is wall-clock: 01:00 -> 05:00 is 3 real hours
        (date(2026, 3, 29), time(1), DueAt(time(5)), BERLIN, utc(2026, 3, 29, 3)),
        # ... and across fall back 5 real hours
        (date(2026, 10, 25), time(1), DueAt(time(5)), BERLIN, utc(2026, 10, 25, 4)),
    ],
)
def test_resolve_times_due(day, nudge, due, tz, expected):
    nudge_at, due_at = resolve_times(day, nudge, due, tz)
    assert nudge_at == local_to_utc(day, nudge, tz)
    assert due_at == expected


def test_plus_four_hours_across_spring_forward_is_four_real_hours():
    nudge_at, due_at = resolve_times(
        date(2026, 3, 29), time(0, 30), DueAfter(timedelta(hours=4)), BERLIN
    )
    assert due_at - nudge_at == timedelta(hours=4)
    assert due_at.astimezone(zone(BERLIN)).time() == time(5, 30)  # not 04:30


def test_night_shift_nudge_and_due_across_midnight():
    window = (utc(2026, 1, 5, 17), utc(2026, 1, 6, 5))  # 18:00-06:00 Berlin
    assert resolve_times(date(2026, 1, 5), time(18), DueEndOfShift(), BERLIN, window) == (
        utc(2026, 1, 5, 17),
        utc(2026, 1, 6, 5),
    )
    assert resolve_times(date(2026, 1, 5), time(18), DueAt(time(5, 30)), BERLIN, window) == (
        utc(2026, 1, 5, 17),
        utc(2026, 1, 6, 4, 30),
    )


def test_shift_nudge_time_before_the_shift_start_means_next_morning():
    window = (utc(2026, 1, 5, 17), utc(2026, 1, 6, 5))  # 18:00-06:00 Berlin
    nudge_at, due_at = resolve_times(date(2026, 1, 5), time(5), DueAt(time(5, 45)), BERLIN, window)
    assert (nudge_at, due_at) == (utc(2026, 1, 6, 4), utc(2026, 1, 6, 4, 45))


def test_end_of_shift_needs_a_shift():
    with pytest.raises(ValueError, match="due 'end-of-shift' needs a shift"):
        resolve_times(date(2026, 1, 5), time(8), DueEndOfShift(), BERLIN)
