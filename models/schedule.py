"""When a duty falls due: its schedule (the days it occurs on).

Schedules (the org file's ``schedule`` value)::

    schedule = "workdays"                       # default: every working day of the calendar
    schedule = "daily"                          # every calendar day
    schedule = { weekdays = ["mon", "thu"] }
    schedule = { monthdays = [1, 15, -1, "last-working"] }   # -1 = last calendar day
    schedule = { cron = "30 7 * * 1-5" }        # minute hour day-of-month month day-of-week
    schedule = { shift = "any" }                # or a shift code: { shift = "N" }
    schedule = { once = "2026-12-01" }

Which days count:
- ``weekdays``, ``monthdays`` and ``cron`` only fire on working days of the calendar, unless
  the table says ``include_days_off = true``. A monthday the month lacks (31 in April) never
  fires; "last-working" is the last working day of the month.
- ``shift`` fires on the days the person's crew *starts* that shift (any shift for "any").
  Plants run shifts through weekends and holidays, so the calendar is ignored unless the
  table says ``include_days_off = false``. People without a crew never match.
- ``once`` fires on its date, whatever the calendar says (``include_days_off = false`` to
  respect it).
- ``cron`` follows standard 5-field cron: ``*``, lists, ranges, steps, month names jan..dec,
  weekday names sun..sat, weekday 0 and 7 both Sunday. If both day-of-month and day-of-week
  are restricted (neither starts with ``*``) a day matches when EITHER matches. Its minute
  and hour are the nudge time, so they must be single numbers.

Nudge and due times: ``models.due``.
"""

import re
from calendar import monthrange
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, time

from models.calendar import WorkCalendar, parse_date, parse_weekday
from models.shifts import ANY, ShiftKind

# --- schedule kinds --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workdays:
    """Every working day of the calendar."""

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        return calendar.is_working_day(day)


@dataclass(frozen=True, slots=True)
class Daily:
    """Every calendar day."""

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Weekdays:
    """Given weekdays that are working days (any of them with ``include_days_off``)."""

    days: frozenset[int]  # ISO weekday numbers, 1 = Monday
    include_days_off: bool = False

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        return day.isoweekday() in self.days and (
            self.include_days_off or calendar.is_working_day(day)
        )


@dataclass(frozen=True, slots=True)
class Monthdays:
    """Given days of the month, counted from either end, and/or its last working day."""

    days: frozenset[int]  # 1..31 from the start, -1..-31 from the end (-1 = last day)
    last_working: bool = False
    include_days_off: bool = False

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        length = monthrange(day.year, day.month)[1]
        hit = day.day in self.days or day.day - length - 1 in self.days
        if not hit and self.last_working:
            hit = day == calendar.last_working_day_of_month(day.year, day.month)
        return hit and (self.include_days_off or calendar.is_working_day(day))


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed 5-field cron expression; ``at`` is its minute and hour as the nudge time."""

    text: str
    at: time
    days_of_month: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday
    either_day: bool  # both day fields restricted: match if either matches
    include_days_off: bool = False

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        if day.month not in self.months:
            return False
        by_month_day = day.day in self.days_of_month
        by_weekday = day.isoweekday() % 7 in self.weekdays
        hit = by_month_day or by_weekday if self.either_day else by_month_day and by_weekday
        return hit and (self.include_days_off or calendar.is_working_day(day))


@dataclass(frozen=True, slots=True)
class OnShift:
    """Days the person's crew starts the shift ``code`` (or any shift)."""

    code: str  # a shift code, or "any"
    include_days_off: bool = True

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        return (
            shift is not None
            and (self.code == ANY or shift.code == self.code)
            and (self.include_days_off or calendar.is_working_day(day))
        )


@dataclass(frozen=True, slots=True)
class Once:
    """A one-off task on one date."""

    day: date
    include_days_off: bool = True

    def occurs_on(self, day: date, calendar: WorkCalendar, shift: ShiftKind | None) -> bool:
        return day == self.day and (self.include_days_off or calendar.is_working_day(day))


# Every schedule answers occurs_on(day, calendar, shift), where ``shift`` is the shift the
# person's crew starts on ``day`` (None without a crew or on a day off).
Schedule = Workdays | Daily | Weekdays | Monthdays | Cron | OnShift | Once


# --- parsing schedules -----------------------------------------------------------------------

_TABLE_KINDS = ("weekdays", "monthdays", "cron", "shift", "once")
_EXPECTED = (
    "expected 'workdays', 'daily' or a table like { weekdays = [\"mon\", \"thu\"] },"
    ' { monthdays = [1, 15] }, { cron = "30 7 * * 1-5" }, { shift = "any" }'
    ' or { once = "2026-12-01" }'
)
_MONTHDAY_RANGE = "expected 1..31, -1 for the last day, -2 for the day before, or 'last-working'"


def parse_schedule(value: object, shift_codes: Collection[str] | None = None) -> Schedule:
    """Parse an org-file schedule; None (no schedule given) means "workdays".

    With ``shift_codes`` a ``{ shift = ... }`` schedule must name one of them (or "any").
    """
    if value is None:
        return Workdays()
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "workdays":
            return Workdays()
        if word == "daily":
            return Daily()
        raise ValueError(f"schedule: unknown schedule {value!r} ({_EXPECTED})")
    if not isinstance(value, Mapping):
        raise ValueError(f"schedule: {_EXPECTED}, got {value!r}")
    for key in value:
        if key not in (*_TABLE_KINDS, "include_days_off"):
            raise ValueError(
                f"schedule: unknown key {key!r}"
                f" (expected one of {', '.join(_TABLE_KINDS)} and optionally include_days_off)"
            )
    kinds = [key for key in _TABLE_KINDS if key in value]
    if len(kinds) != 1:
        raise ValueError(f"schedule: give exactly one of {', '.join(_TABLE_KINDS)}, got {kinds}")
    kind = kinds[0]
    spec = value[kind]
    days_off = value.get("include_days_off")
    if days_off is not None and not isinstance(days_off, bool):
        raise ValueError(f"schedule: include_days_off must be true or false, got {days_off!r}")
    if kind == "weekdays":
        days = frozenset(parse_weekday(name, "schedule") for name in _list(spec, kind))
        return Weekdays(days, include_days_off=bool(days_off))
    if kind == "monthdays":
        items = _list(spec, kind)
        last_working = "last-working" in items
        numbers = frozenset(_monthday(item) for item in items if item != "last-working")
        return Monthdays(numbers, last_working, include_days_off=bool(days_off))
    if kind == "cron":
        return parse_cron(spec, include_days_off=bool(days_off))
    if kind == "shift":
        return OnShift(_shift_code(spec, shift_codes), include_days_off=days_off is not False)
    return Once(parse_date(spec, "schedule.once"), include_days_off=days_off is not False)


def _list(spec: object, kind: str) -> list[object]:
    if not isinstance(spec, list) or not spec:
        example = '["mon", "thu"]' if kind == "weekdays" else "[1, 15]"
        raise ValueError(f"schedule: {kind} must be a non-empty list like {example}, got {spec!r}")
    return spec


def _monthday(item: object) -> int:
    if isinstance(item, bool) or not isinstance(item, int):
        raise ValueError(f"schedule: unknown monthday {item!r} ({_MONTHDAY_RANGE})")
    if not (1 <= item <= 31 or -31 <= item <= -1):
        raise ValueError(f"schedule: monthday {item} is out of range ({_MONTHDAY_RANGE})")
    return item


def _shift_code(spec: object, shift_codes: Collection[str] | None) -> str:
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"schedule: shift must be a shift code or 'any', got {spec!r}")
    code = spec.strip()
    if code.lower() == ANY:
        return ANY
    if shift_codes is not None and code not in shift_codes:
        expected = ", ".join([*shift_codes, ANY])
        raise ValueError(f"schedule: unknown shift {code!r} (expected one of {expected})")
    return code


# --- cron ------------------------------------------------------------------------------------

_CRON_FORM = "'minute hour day-of-month month day-of-week' like '30 7 * * 1-5'"
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_CRON_WEEKDAYS = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
_NUMBER = re.compile(r"\d+")


def parse_cron(text: object, include_days_off: bool = False) -> Cron:
    """Parse "minute hour day-of-month month day-of-week"; see the module docstring."""
    if not isinstance(text, str):
        raise ValueError(f"schedule: cron must be text with 5 fields {_CRON_FORM}, got {text!r}")
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"cron: expected 5 fields {_CRON_FORM}, got {text!r}")
    minute, hour, month_day, month, weekday = fields
    at = time(_single(hour, "hour", 23), _single(minute, "minute", 59))
    weekdays = _cron_field(weekday, "day-of-week", 0, 7, _CRON_WEEKDAYS)
    return Cron(
        text=text,
        at=at,
        days_of_month=_cron_field(month_day, "day-of-month", 1, 31, {}),
        months=_cron_field(month, "month", 1, 12, _MONTHS),
        weekdays=frozenset(day % 7 for day in weekdays),
        either_day=not month_day.startswith("*") and not weekday.startswith("*"),
        include_days_off=include_days_off,
    )


def _single(field: str, name: str, high: int) -> int:
    if not _NUMBER.fullmatch(field) or int(field) > high:
        raise ValueError(
            f"cron: the {name} must be a single number 0..{high} because it sets the nudge time,"
            f" got {field!r}"
        )
    return int(field)


def _cron_field(
    field: str, name: str, low: int, high: int, names: Mapping[str, int]
) -> frozenset[int]:
    values: set[int] = set()
    for item in field.split(","):
        body, slash, step_text = item.partition("/")
        step = _cron_value(step_text, f"{name} step", 1, high, {}) if slash else 1
        if body == "*":
            first, last = low, high
        elif "-" in body:
            start_text, _, end_text = body.partition("-")
            first = _cron_value(start_text, name, low, high, names)
            last = _cron_value(end_text, name, low, high, names)
            if last < first:
                hint = (
                    " (Sunday can also be written 7, e.g. 'fri-7')" if name == "day-of-week" else ""
                )
                raise ValueError(f"cron: range {body!r} in {name} runs backwards{hint}")
        else:
            first = _cron_value(body, name, low, high, names)
            last = high if slash else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _cron_value(text: str, name: str, low: int, high: int, names: Mapping[str, int]) -> int:
    word = text.strip().lower()
    if word in names:
        return names[word]
    if _NUMBER.fullmatch(word) and low <= int(word) <= high:
        return int(word)
    named = f" or {', '.join(names)}" if names else ""
    raise ValueError(f"cron: bad {name} value {text!r} (expected {low}..{high}{named})")
