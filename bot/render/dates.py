"""Dates, times and durations as a reader sees them: in the reader's language, through Babel's
CLDR data (never ``strftime``, which speaks only the C locale's English).

- ``day``: a day with its weekday, "Thu, Dec 3" / "чт, 3 дек." / "12月3日周四" / "Do., 3. Dez.";
- ``short_day``: a day without it, "Dec 3" / "3 дек." (a stamp in a list);
- ``clock``: a time of day on the 24-hour clock, "07:30" (the plant's convention everywhere);
- ``duration``: "2 hours" / "2 часа" / "2小时" / "1 Stunde, 30 Minuten".

Each takes a value already in the reader's zone (``local`` moves an instant there).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time
from babel.lists import format_list
from babel.units import format_unit

from bot.render import texts

DAY_SKELETON = "MMMEd"  # abbreviated month, day and weekday, in the locale's own order
SHORT_DAY_SKELETON = "MMMd"
CLOCK_PATTERN = "HH:mm"  # 24 hours in every language: a plant's shift times are written so
_DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def local(at: datetime, tz: str | ZoneInfo) -> datetime:
    """The instant ``at`` in the zone ``tz``."""
    return at.astimezone(tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz))


def day(lang: str | None, value: date) -> str:
    """A day with its weekday, e.g. "Thu, Dec 3" in English."""
    return str(format_skeleton(DAY_SKELETON, value, locale=texts.locale(lang or texts.FALLBACK)))


def short_day(lang: str | None, value: date) -> str:
    """A day without its weekday, e.g. "Dec 3" in English."""
    skeleton = SHORT_DAY_SKELETON
    return str(format_skeleton(skeleton, value, locale=texts.locale(lang or texts.FALLBACK)))


def clock(lang: str | None, value: datetime | time) -> str:
    """The time of day of ``value`` (already in the reader's zone), e.g. "07:30"."""
    moment = value.time() if isinstance(value, datetime) else value
    return str(format_time(moment, CLOCK_PATTERN, locale=texts.locale(lang or texts.FALLBACK)))


def duration(lang: str | None, value: timedelta) -> str:
    """A positive duration in words, each whole unit from days down to seconds: "2 hours",
    "1 hour, 30 minutes" in English, "1 час 30 минут" in Russian (CLDR's unit lists)."""
    locale = texts.locale(lang or texts.FALLBACK)
    remaining = max(int(value.total_seconds()), 0)
    parts = []
    for unit, size in _DURATION_UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(str(format_unit(count, f"duration-{unit}", locale=locale)))
    if not parts:
        parts.append(str(format_unit(0, "duration-minute", locale=locale)))
    return str(format_list(parts, style="unit", locale=locale))


def stamp(lang: str | None, value: datetime) -> str:
    """A day and a time (already in the reader's zone) joined the locale's way, without the
    weekday: "Nov 17, 07:31" / "17 нояб., 07:31" / "11月17日 07:31" (a list of past events)."""
    locale = texts.locale(lang or texts.FALLBACK)
    joined = str(locale.datetime_formats["short"])
    return joined.replace("{1}", short_day(lang, value.date())).replace("{0}", clock(lang, value))
