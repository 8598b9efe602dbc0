"""A plant's working days, its people's absences, and turning local wall-clock times into UTC.

Working days
    A day is a working day unless it is a weekend day, a public holiday or a plant day off.
    An *extra working day* overrides all three (e.g. a Saturday worked to bridge a holiday).
    When several apply, the first of these wins: extra working day, plant day off, public
    holiday, weekend. Weekend days are ISO weekday numbers (1 = Monday ... 7 = Sunday).
    Public holidays arrive as data (date -> name); this module never looks them up itself.

Absences
    An absence covers ``start`` to ``end`` inclusive. ``AbsenceIndex`` is built once from all
    absences and answers "is this person away on this day?" with a binary search.

Local time (``local_to_utc``)
    - a time that does not exist (skipped by a spring-forward change) becomes the first
      valid instant after the gap: 02:30 on 2026-03-29 in Europe/Berlin is 03:00 CEST;
    - a time that happens twice (fall-back change) means its first occurrence.
    Either way a local time maps to exactly one UTC instant, so nothing fires twice.

Org-file ``[calendar]`` table (read by ``calendar_from_config``)::

    [calendar]
    country = "DE"                           # read by the shell to fetch public holidays
    subdivision = "BY"                       # idem
    weekend = ["sat", "sun"]                 # default; [] for a plant that never stops
    days_off = { "2026-12-24" = "Christmas Eve shutdown" }   # or a list of dates
    extra_working_days = ["2026-05-02"]
"""

import re
from bisect import bisect_right
from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_WEEKDAY_NAMES = ", ".join(WEEKDAYS)
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


# --- values written in the org file ----------------------------------------------------------


def parse_date(value: object, what: str) -> date:
    """An ISO date string ("2026-12-01") or a TOML date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{what}: expected a date like '2026-12-01', got {value!r}")


def parse_clock(value: object, what: str) -> time:
    """A local time of day "HH:MM" (24-hour clock) or a TOML local time."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        match = _CLOCK.fullmatch(value.strip())
        if match:
            return time(int(match[1]), int(match[2]))
    raise ValueError(f"{what}: expected a time of day like '07:30' (24-hour clock), got {value!r}")


def parse_weekday(value: object, what: str) -> int:
    """A weekday name ("mon" ... "sun") as an ISO weekday number."""
    number = WEEKDAYS.get(value.strip().lower()) if isinstance(value, str) else None
    if number is None:
        raise ValueError(f"{what}: unknown weekday {value!r} (expected {_WEEKDAY_NAMES})")
    return number


# --- working days ----------------------------------------------------------------------------


class DayKind(StrEnum):
    WORKING = "working day"
    WEEKEND = "weekend"
    HOLIDAY = "public holiday"
    PLANT_DAY_OFF = "plant day off"
    EXTRA_WORKING_DAY = "extra working day"


@dataclass(frozen=True, slots=True)
class DayStatus:
    """Why a day is or is not worked; ``name`` is the holiday name or day-off reason."""

    kind: DayKind
    name: str = ""

    @property
    def working(self) -> bool:
        return self.kind in (DayKind.WORKING, DayKind.EXTRA_WORKING_DAY)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    weekend: frozenset[int] = frozenset({6, 7})
    holidays: Mapping[date, str] = field(default_factory=dict)
    days_off: Mapping[date, str] = field(default_factory=dict)
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.weekend <= set(WEEKDAYS.values()):
            raise ValueError(f"calendar: weekend days must be 1..7, got {sorted(self.weekend)}")
        both = sorted(self.extra_working_days.intersection(self.days_off))
        if both:
            listed = ", ".join(day.isoformat() for day in both)
            raise ValueError(f"calendar: {listed} is both a plant day off and an extra working day")
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "days_off", MappingProxyType(dict(self.days_off)))

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.days_off or day in self.holidays:
            return False
        return day.isoweekday() not in self.weekend

    def day_kind(self, day: date) -> DayStatus:
        if day in self.extra_working_days:
            return DayStatus(DayKind.EXTRA_WORKING_DAY)
        if day in self.days_off:
            return DayStatus(DayKind.PLANT_DAY_OFF, self.days_off[day])
        if day in self.holidays:
            return DayStatus(DayKind.HOLIDAY, self.holidays[day])
        if day.isoweekday() in self.weekend:
            return DayStatus(DayKind.WEEKEND)
        return DayStatus(DayKind.WORKING)

    def last_working_day_of_month(self, year: int, month: int) -> date | None:
        """The month's last working day, or None if the whole month is off."""
        day = date(year, month, monthrange(year, month)[1])
        while day.month == month:
            if self.is_working_day(day):
                return day
            day -= timedelta(days=1)
        return None


_CALENDAR_KEYS = ("country", "subdivision", "weekend", "days_off", "extra_working_days")


def calendar_from_config(data: Mapping[str, object], holidays: Mapping[date, str]) -> WorkCalendar:
    """Build the calendar from the org file's ``[calendar]`` table and the shell's holidays.

    ``country`` and ``subdivision`` are for the shell's holiday lookup and are ignored here.
    """
    unknown = sorted(set(data) - set(_CALENDAR_KEYS))
    if unknown:
        raise ValueError(
            f"calendar: unknown key {unknown[0]!r} (expected {', '.join(_CALENDAR_KEYS)})"
        )
    weekend = frozenset(
        parse_weekday(name, "calendar.weekend")
        for name in _as_list(data, "weekend", ["sat", "sun"])
    )
    raw_days_off = data.get("days_off", [])
    if isinstance(raw_days_off, Mapping):
        days_off = {
            parse_date(day, "calendar.days_off"): _as_text(reason, "calendar.days_off")
            for day, reason in raw_days_off.items()
        }
    else:
        days_off = {
            parse_date(day, "calendar.days_off"): "plant day off"
            for day in _as_list(data, "days_off", [])
        }
    extra = frozenset(
        parse_date(day, "calendar.extra_working_days")
        for day in _as_list(data, "extra_working_days", [])
    )
    return WorkCalendar(weekend, holidays, days_off, extra)


def _as_list(data: Mapping[str, object], key: str, default: list[str]) -> list[object]:
    value = data.get(key, default)
    if not isinstance(value, list):
        raise ValueError(f'calendar.{key}: expected a list like ["...", "..."], got {value!r}')
    return value


def _as_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected the reason as text, got {value!r}")
    return value


# --- absences --------------------------------------------------------------------------------


class AbsenceKind(StrEnum):
    LEAVE = "leave"
    SICK = "sick"
    TRIP = "trip"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Absence:
    person_key: str
    start: date
    end: date
    kind: AbsenceKind = AbsenceKind.OTHER
    note: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"absence of {self.person_key!r}: ends {self.end} before it starts {self.start}"
            )


@dataclass(frozen=True, slots=True)
class _PersonAbsences:
    starts: list[date]  # sorted
    reach: list[date]  # reach[i] = latest end among absences[0..i]
    absences: list[Absence]


class AbsenceIndex:
    """All absences, grouped per person and sorted by start, for O(log n) lookups."""

    __slots__ = ("_people",)

    def __init__(self, absences: Iterable[Absence] = ()) -> None:
        grouped: dict[str, list[Absence]] = {}
        for absence in absences:
            grouped.setdefault(absence.person_key, []).append(absence)
        self._people: dict[str, _PersonAbsences] = {}
        for key, items in grouped.items():
            items.sort(key=lambda absence: absence.start)
            reach: list[date] = []
            for absence in items:
                reach.append(max(reach[-1], absence.end) if reach else absence.end)
            self._people[key] = _PersonAbsences([a.start for a in items], reach, items)

    def absence_on(self, person_key: str, day: date) -> Absence | None:
        """The absence covering ``day`` (the latest-starting one if several overlap)."""
        entry = self._people.get(person_key)
        if entry is None:
            return None
        index = bisect_right(entry.starts, day) - 1
        while index >= 0 and entry.reach[index] >= day:
            if entry.absences[index].end >= day:
                return entry.absences[index]
            index -= 1
        return None

    def is_absent(self, person_key: str, day: date) -> bool:
        return self.absence_on(person_key, day) is not None

    def absent_on(self, day: date) -> frozenset[str]:
        """The keys of everybody absent on ``day``."""
        return frozenset(key for key in self._people if self.is_absent(key, day))


# --- local time ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
        raise ValueError(
            f"time zone: unknown time zone {name!r} (expected a name like 'Europe/Berlin')"
        ) from None


def zone(tz: str | ZoneInfo) -> ZoneInfo:
    """A ZoneInfo for a time zone name (cached), or the ZoneInfo itself."""
    return tz if isinstance(tz, ZoneInfo) else _zone_named(tz)


def local_to_utc(day: date, at: time, tz: str | ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz`` (gap and overlap rules above)."""
    where = zone(tz)
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=where).astimezone(UTC)  # fold=0: first occurrence
    if instant.astimezone(where).replace(tzinfo=None) == wall:
        return instant
    return _end_of_gap(wall, where)


def _end_of_gap(wall: datetime, where: ZoneInfo) -> datetime:
    """The clock change that skipped ``wall``: the first valid instant after the gap.

    fold=1 reads ``wall`` with the offset after the change (an instant before it), fold=0
    with the offset before (an instant after it); bisect between them to the second.
    """
    before = int(wall.replace(tzinfo=where, fold=1).timestamp())
    after = int(wall.replace(tzinfo=where, fold=0).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, where).replace(tzinfo=None) > wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)
