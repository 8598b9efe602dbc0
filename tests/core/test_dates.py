"""Dates, times and durations in the reader's language (bot/render/dates.py), through Babel:
the same instant reads differently in each language, the clock is 24-hour everywhere, and a
duration counts with the language's plural forms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.render import dates
from bot.render.english import counted
from bot.render.messages import when_label

DAY = date(2026, 12, 3)  # a Thursday
AT = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)  # 15:05 in Berlin


@pytest.mark.parametrize(
    ("lang", "day", "short", "stamp"),
    [
        ("en", "Thu, Dec 3", "Dec 3", "Dec 3, 15:05"),
        ("ru", "чт, 3 дек.", "3 дек.", "3 дек., 15:05"),
        ("zh-Hans", "12月3日周四", "12月3日", "12月3日 15:05"),
        ("de", "Do., 3. Dez.", "3. Dez.", "3. Dez., 15:05"),
    ],
)
def test_days_and_stamps_in_each_language(lang: str, day: str, short: str, stamp: str) -> None:
    assert dates.day(lang, DAY) == day
    assert dates.short_day(lang, DAY) == short
    assert dates.stamp(lang, dates.local(AT, "Europe/Berlin")) == stamp


@pytest.mark.parametrize("lang", ["en", "ru", "zh-Hans", "de"])
def test_the_clock_is_24_hours_in_the_readers_zone(lang: str) -> None:
    assert dates.clock(lang, dates.local(AT, "Europe/Berlin")) == "15:05"
    assert dates.clock(lang, dates.local(AT, "Asia/Shanghai")) == "22:05"


@pytest.mark.parametrize(
    ("lang", "hours", "expected"),
    [
        ("en", 1, "1 hour"),
        ("en", 2, "2 hours"),
        ("ru", 1, "1 час"),
        ("ru", 3, "3 часа"),
        ("ru", 5, "5 часов"),
        ("ru", 21, "21 час"),
        ("de", 2, "2 Stunden"),
        ("zh-Hans", 2, "2小时"),
    ],
)
def test_durations_count_by_the_languages_plural_rules(
    lang: str, hours: int, expected: str
) -> None:
    assert dates.duration(lang, timedelta(hours=hours)) == expected


def test_a_mixed_duration_lists_its_units() -> None:
    assert dates.duration("en", timedelta(hours=1, minutes=30)) == "1 hour, 30 minutes"
    assert dates.duration("ru", timedelta(days=1, minutes=5)) == "1 день 5 минут"
    assert dates.duration("en", timedelta(minutes=20)) == "20 minutes"


def test_another_days_time_names_the_day_in_the_readers_language() -> None:
    today = date(2026, 12, 2)
    assert when_label("en", AT, "Europe/Berlin", today) == "Thu, Dec 3 15:05"
    assert when_label("en", AT, "Europe/Berlin", DAY) == "15:05"
    # the day in Russian even without a Russian catalogue: the frame falls back, the date not
    assert when_label("ru", AT, "Europe/Berlin", today).startswith("чт, 3 дек.")


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 absences"), (1, "1 absence"), (2, "2 absences"), (21, "21 absences")],
)
def test_counted_english_nouns_have_no_parenthesised_s(count: int, expected: str) -> None:
    assert counted(count, "absence") == expected
    assert counted(count, "child", "children").endswith("child" if count == 1 else "children")
