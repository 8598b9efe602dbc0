"""Shift kinds and rotating crews.

Rules:
- A shift kind has a local start and end time. If ``end <= start`` the shift crosses midnight
  and ends on the next calendar day (``end == start`` is a 24-hour shift). A shift belongs to
  the day it *starts* on: the night shift of 2026-01-05 runs 2026-01-05 18:00 to 01-06 06:00.
- A rotation pattern is a cycle of shift codes, one per day, with ``None`` for a day off
  (``"-"`` in the org file), and an anchor date on which the cycle's first entry falls.
- A crew follows a pattern ``offset`` days late: crew position on ``day`` is
  ``(day - anchor).days - offset`` modulo the cycle length. This works before the anchor too.
  Four crews on ``D D N N - - - -`` with offsets 0, 2, 4, 6 give exactly one day crew and one
  night crew every day.

Org-file ``[shifts]`` table (read by ``parse_shifts``)::

    [shifts.kinds]
    D = { start = "06:00", end = "18:00" }
    N = { start = "18:00", end = "06:00" }
    [shifts.patterns.four-crew]
    cycle = ["D", "D", "N", "N", "-", "-", "-", "-"]
    anchor = "2026-01-05"
    [shifts.crews]
    A = { pattern = "four-crew", offset = 0 }
    B = { pattern = "four-crew", offset = 2 }

Shift codes may not be ``"-"`` (day off) or ``"any"`` (used by schedules for every shift).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from models.calendar import local_to_utc, parse_clock, parse_date

OFF = "-"
ANY = "any"


@dataclass(frozen=True, slots=True)
class ShiftKind:
    code: str
    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class RotationPattern:
    key: str
    cycle: tuple[str | None, ...]
    anchor: date

    def __post_init__(self) -> None:
        if not self.cycle:
            raise ValueError(f"shifts: pattern {self.key!r} has an empty cycle")

    def code_on(self, day: date, offset_days: int) -> str | None:
        """The shift code starting on ``day`` for a crew ``offset_days`` behind the anchor."""
        return self.cycle[((day - self.anchor).days - offset_days) % len(self.cycle)]


@dataclass(frozen=True, slots=True)
class Crew:
    key: str
    pattern_key: str
    offset_days: int = 0


def shift_on(
    crew: Crew, pattern: RotationPattern, kinds: Mapping[str, ShiftKind], day: date
) -> ShiftKind | None:
    """The shift ``crew`` starts on ``day``, or None on a day off."""
    if crew.pattern_key != pattern.key:
        raise ValueError(
            f"shifts: crew {crew.key!r} follows {crew.pattern_key!r}, not {pattern.key!r}"
        )
    code = pattern.code_on(day, crew.offset_days)
    return None if code is None else kinds[code]


def shift_window(kind: ShiftKind, day: date, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and end of the ``kind`` shift that starts on ``day``."""
    end_day = day + timedelta(days=1) if kind.crosses_midnight else day
    return local_to_utc(day, kind.start, tz), local_to_utc(end_day, kind.end, tz)


@dataclass(frozen=True, slots=True)
class ShiftConfig:
    kinds: Mapping[str, ShiftKind] = field(default_factory=dict)
    patterns: Mapping[str, RotationPattern] = field(default_factory=dict)
    crews: Mapping[str, Crew] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code in self.kinds:
            if code in (OFF, ANY) or not code.strip():
                raise ValueError(f"shifts: {code!r} cannot be a shift code (reserved or blank)")
        expected = ", ".join([*self.kinds, repr(OFF)])
        for pattern in self.patterns.values():
            for entry in pattern.cycle:
                if entry is not None and entry not in self.kinds:
                    raise ValueError(
                        f"shifts: pattern {pattern.key!r} uses unknown shift {entry!r}"
                        f" (expected one of {expected})"
                    )
        for crew in self.crews.values():
            if crew.pattern_key not in self.patterns:
                raise ValueError(
                    f"shifts: crew {crew.key!r} follows unknown pattern {crew.pattern_key!r}"
                    f" (expected one of {', '.join(self.patterns) or 'no patterns defined'})"
                )
        for name in ("kinds", "patterns", "crews"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def shift_for(self, crew_key: str, day: date) -> ShiftKind | None:
        """The shift crew ``crew_key`` starts on ``day``, or None on its day off."""
        crew = self.crews.get(crew_key)
        if crew is None:
            raise ValueError(f"shifts: unknown crew {crew_key!r}")
        return shift_on(crew, self.patterns[crew.pattern_key], self.kinds, day)


_SECTIONS = ("kinds", "patterns", "crews")


def parse_shifts(data: Mapping[str, object]) -> ShiftConfig:
    """Build a ShiftConfig from the org file's ``[shifts]`` table (empty table: no shifts)."""
    _check_keys(data, _SECTIONS, "shifts")
    kinds = {}
    for code, entry, what in _tables(data, "kinds", ("start", "end")):
        start = parse_clock(_required(entry, "start", what), f"{what}.start")
        kinds[code] = ShiftKind(
            code, start, parse_clock(_required(entry, "end", what), f"{what}.end")
        )
    patterns = {}
    for key, entry, what in _tables(data, "patterns", ("cycle", "anchor")):
        cycle = _cycle(_required(entry, "cycle", what), f"{what}.cycle")
        anchor = parse_date(_required(entry, "anchor", what), f"{what}.anchor")
        patterns[key] = RotationPattern(key, cycle, anchor)
    crews = {}
    for key, entry, what in _tables(data, "crews", ("pattern", "offset")):
        pattern = _text(_required(entry, "pattern", what), f"{what}.pattern")
        crews[key] = Crew(key, pattern, _offset(entry.get("offset", 0), f"{what}.offset"))
    return ShiftConfig(kinds, patterns, crews)


def _tables(
    data: Mapping[str, object], section: str, keys: tuple[str, ...]
) -> list[tuple[str, Mapping[str, object], str]]:
    """The entries of ``[shifts.<section>]`` as (name, table, where-in-the-file)."""
    value = data.get(section, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"shifts.{section}: expected a table, got {value!r}")
    entries = []
    for name, entry in value.items():
        what = f"shifts.{section}.{name}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{what}: expected a table like {{ {keys[0]} = ... }}, got {entry!r}")
        _check_keys(entry, keys, what)
        entries.append((str(name), entry, what))
    return entries


def _check_keys(data: Mapping[str, object], allowed: tuple[str, ...], what: str) -> None:
    for key in data:
        if key not in allowed:
            raise ValueError(f"{what}: unknown key {key!r} (expected {', '.join(allowed)})")


def _required(entry: Mapping[str, object], key: str, what: str) -> object:
    if key not in entry:
        raise ValueError(f"{what}: missing {key!r}")
    return entry[key]


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: expected a name as text, got {value!r}")
    return value


def _cycle(value: object, what: str) -> tuple[str | None, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what}: expected a list of shift codes and '-' like ['D', 'N', '-']")
    return tuple(None if code == OFF else _text(code, what) for code in value)


def _offset(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: expected a whole number of days, got {value!r}")
    return value
