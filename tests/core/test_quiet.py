"""Quiet hours: parsing, holding and resuming, across midnight and on clock-change days."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.quiet import QuietHours, deliver_at, hold_until, parse_quiet_hours

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
NIGHT = QuietHours(time(22), time(6))


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def local(tz: str, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(tz), fold=fold).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00-06:00", NIGHT),
        (" 12:30-13:15 ", QuietHours(time(12, 30), time(13, 15))),
        ("00:00-23:59", QuietHours(time(0), time(23, 59))),
        ("", None),
        ("   ", None),
    ],
)
def test_parse(text, expected):
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22:00", 'quiet_hours: expected "HH:MM-HH:MM" like "22:00-06:00", or "" for none'),
        ("24:00-06:00", "expected"),
        ("7:00-9:00", "expected"),
        ("22:00 - 06:00", "expected"),
        ("06:00-06:00", "quiet_hours: start and end must differ, got '06:00-06:00'"),
        (None, 'quiet_hours: expected text like "22:00-06:00" or "", got None'),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_quiet_hours(text)


def test_equal_start_and_end_are_refused_when_built_directly():
    with pytest.raises(ValueError, match="start and end must differ"):
        QuietHours(time(6), time(6))


def test_text_form():
    assert str(NIGHT) == "22:00-06:00"


@pytest.mark.parametrize(
    ("quiet", "at", "inside"),
    [
        (NIGHT, time(21, 59), False),
        (NIGHT, time(22), True),
        (NIGHT, time(0), True),
        (NIGHT, time(5, 59), True),
        (NIGHT, time(6), False),
        (QuietHours(time(12), time(13)), time(12, 30), True),
        (QuietHours(time(12), time(13)), time(13), False),
        (QuietHours(time(12), time(13)), time(11, 59), False),
    ],
)
def test_contains(quiet, at, inside):
    assert quiet.contains(at) is inside


@pytest.mark.parametrize(
    ("quiet", "tz", "at", "expected"),
    [
        # an ordinary winter night in Berlin (UTC+1): 23:00 waits for 06:00 the next day
        (NIGHT, BERLIN, local(BERLIN, 1, 14, 23), local(BERLIN, 1, 15, 6)),
        (NIGHT, BERLIN, local(BERLIN, 1, 15, 3), local(BERLIN, 1, 15, 6)),
        (NIGHT, BERLIN, local(BERLIN, 1, 15, 0), local(BERLIN, 1, 15, 6)),
        (NIGHT, BERLIN, local(BERLIN, 1, 14, 22), local(BERLIN, 1, 15, 6)),
        # outside the window: unchanged
        (NIGHT, BERLIN, local(BERLIN, 1, 14, 21, 59), local(BERLIN, 1, 14, 21, 59)),
        (NIGHT, BERLIN, local(BERLIN, 1, 15, 6), local(BERLIN, 1, 15, 6)),
        # a window within one day
        (QuietHours(time(12), time(13)), BERLIN, local(BERLIN, 7, 1, 12, 30), utc(7, 1, 11)),
        # Berlin spring forward (2026-03-29): the night is an hour shorter, 06:00 is CEST
        (NIGHT, BERLIN, local(BERLIN, 3, 28, 23), utc(3, 29, 4)),
        (NIGHT, BERLIN, local(BERLIN, 3, 29, 1, 30), utc(3, 29, 4)),
        (NIGHT, BERLIN, local(BERLIN, 3, 29, 3, 30), utc(3, 29, 4)),
        # Berlin fall back (2026-10-25): an hour longer, 06:00 is CET
        (NIGHT, BERLIN, local(BERLIN, 10, 24, 23), utc(10, 25, 5)),
        (NIGHT, BERLIN, local(BERLIN, 10, 25, 2, 30, fold=1), utc(10, 25, 5)),
        # New York spring forward (2026-03-08): 06:00 EDT is 10:00 UTC
        (NIGHT, NEW_YORK, local(NEW_YORK, 3, 7, 23), utc(3, 8, 10)),
        # New York fall back (2026-11-01): 06:00 EST is 11:00 UTC
        (NIGHT, NEW_YORK, local(NEW_YORK, 10, 31, 23), utc(11, 1, 11)),
        (NIGHT, NEW_YORK, local(NEW_YORK, 11, 1, 1, 30, fold=1), utc(11, 1, 11)),
        # a window ending in the skipped hour ends with the gap: 03:00 CEST
        (QuietHours(time(22), time(2, 30)), BERLIN, local(BERLIN, 3, 28, 23), utc(3, 29, 1)),
        (QuietHours(time(1), time(2, 30)), NEW_YORK, local(NEW_YORK, 3, 8, 1, 30), utc(3, 8, 7)),
        # a window ending in the repeated hour ends at the next 02:30 to come
        (QuietHours(time(22), time(2, 30)), BERLIN, local(BERLIN, 10, 24, 23), utc(10, 25, 0, 30)),
        (
            QuietHours(time(22), time(2, 30)),
            BERLIN,
            local(BERLIN, 10, 25, 2, 10, fold=1),
            utc(10, 25, 1, 30),
        ),
        (
            QuietHours(time(22), time(1, 30)),
            NEW_YORK,
            local(NEW_YORK, 11, 1, 1, 10, fold=1),
            utc(11, 1, 6, 30),
        ),
    ],
)
def test_hold_until(quiet, tz, at, expected):
    assert hold_until(quiet, tz, at) == expected


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
@pytest.mark.parametrize(
    "quiet",
    [
        NIGHT,
        QuietHours(time(12), time(13)),
        QuietHours(time(22), time(2, 30)),
        QuietHours(time(1), time(3)),
        QuietHours(time(2, 15), time(2, 45)),
        QuietHours(time(2, 45), time(2, 30)),  # nearly all day
    ],
)
@pytest.mark.parametrize("day", [(3, 8), (3, 29), (10, 25), (11, 1)])
def test_held_notices_always_resume_outside_the_window(tz, quiet, day):
    zone = ZoneInfo(tz)
    start = datetime(2026, day[0], day[1], tzinfo=zone).astimezone(UTC) - timedelta(hours=12)
    for step in range(0, 36 * 60, 10):
        at = start + timedelta(minutes=step)
        held = hold_until(quiet, tz, at)
        inside = quiet.contains(at.astimezone(zone).time())
        assert held >= at
        assert (held > at) is inside
        assert not quiet.contains(held.astimezone(zone).time())
        # at most a day, except when a clock change skips the only open quarter of an hour
        assert held - at < timedelta(hours=25) or quiet.end == time(2, 30)


def test_a_day_whose_only_open_minutes_are_skipped_stays_quiet():
    quiet = QuietHours(time(2, 45), time(2, 30))  # open 02:30-02:45 only
    # 2026-03-29 in Berlin goes from 01:59 CET to 03:00 CEST: open again on 03-30 at 02:30
    assert hold_until(quiet, BERLIN, local(BERLIN, 3, 28, 12)) == local(BERLIN, 3, 30, 2, 30)


def test_deliver_at():
    at = local(BERLIN, 1, 14, 23)
    assert deliver_at(at, NIGHT, BERLIN, urgent=True) == at
    assert deliver_at(at, None, BERLIN, urgent=False) == at
    assert deliver_at(at, NIGHT, BERLIN, urgent=False) == local(BERLIN, 1, 15, 6)


def test_unknown_time_zone():
    with pytest.raises(ValueError, match="time zone: expected a name like 'Europe/Berlin'"):
        hold_until(NIGHT, "Mars/Olympus", utc(1, 1, 0))
