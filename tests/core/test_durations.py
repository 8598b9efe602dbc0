from datetime import timedelta

import pytest

from models.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0h45m", timedelta(minutes=45)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "  ", "15", "m", "-5m", "+5m", "1.5h", "5w", "30m1h", "1h 30m", "1hh", "abc"]
)
def test_parse_duration_rejects_junk_naming_the_form(text):
    with pytest.raises(ValueError, match=r"duration: expected a whole number with a unit.*'1h30m'"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "0m", "0h0m"])
def test_parse_duration_rejects_zero(text):
    with pytest.raises(ValueError, match="duration: must be longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=1, hours=2), "1d2h"),
        (timedelta(days=3), "3d"),
    ],
)
def test_format_duration(duration, text):
    assert format_duration(duration) == text
    assert parse_duration(text) == duration


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(minutes=-5), timedelta(seconds=1.5)])
def test_format_duration_rejects_non_positive_or_fractional(duration):
    with pytest.raises(ValueError, match="positive whole seconds"):
        format_duration(duration)


@pytest.mark.parametrize("text", ["367d", "2950000d", "9" * 30 + "d", "366d1s"])
def test_item5_durations_longer_than_366_days_are_refused(text):
    with pytest.raises(ValueError, match="at most 366d"):
        parse_duration(text)


def test_item5_366_days_is_the_longest_duration():
    assert parse_duration("366d") == timedelta(days=366)
