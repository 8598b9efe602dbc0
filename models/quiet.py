"""Quiet hours: a daily local-time window in which notices to a person wait.

Rules:
- written "HH:MM-HH:MM" in the person's local time, e.g. "22:00-06:00"; a window may cross
  midnight; "" means no quiet hours; a window whose start equals its end is refused;
- the window is half-open: it holds from ``start`` up to, not including, ``end``;
- a notice due inside the window is held until the window ends: the first instant after it
  whose local time is ``end``. On clock-change days that is still the local ``end`` (a window
  ending 06:00 ends at 06:00 local time whatever the offset was when it started); an ``end``
  skipped by a spring-forward change ends the window at the first instant after the gap; an
  ``end`` that happens twice (fall-back) ends it at the next of the two;
- ``hold_until`` never returns an instant earlier than the one given, and the instant it
  returns is never inside the window, so held notices always resume;
- urgent notices are not held (``deliver_at``).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.calendar import local_to_utc

_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From ``start`` (included) to ``end`` (excluded), local time; may cross midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(f"quiet hours: start and end must differ, got {self}")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        """Whether a local wall-clock time falls inside the window."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(text: object, what: str = "quiet_hours") -> QuietHours | None:
    """Parse "22:00-06:00" (or "" for none); ValueError names ``what`` and the expected form."""
    if not isinstance(text, str):
        raise ValueError(f'{what}: expected text like "22:00-06:00" or "", got {text!r}')
    cleaned = text.strip()
    if not cleaned:
        return None
    match = _WINDOW.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f'{what}: expected "HH:MM-HH:MM" like "22:00-06:00", or "" for none, got {text!r}'
        )
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if (start_h, start_m) == (end_h, end_m):
        raise ValueError(f"{what}: start and end must differ, got {text!r}")
    return QuietHours(time(start_h, start_m), time(end_h, end_m))


def hold_until(quiet: QuietHours, tz_name: str, at_utc: datetime) -> datetime:
    """When a notice due at ``at_utc`` may go out: the end of the window if inside it, else
    ``at_utc`` itself (as aware UTC)."""
    zone = _zone(tz_name)
    held = at_utc.astimezone(UTC)
    while quiet.contains(held.astimezone(zone).time()):
        held = _window_end(quiet, zone, held)
    return held


def deliver_at(step_at: datetime, quiet: QuietHours | None, tz_name: str, urgent: bool) -> datetime:
    """When a notice due at ``step_at`` is delivered: urgent notices and people without quiet
    hours get it at once, everyone else after their quiet hours."""
    if urgent or quiet is None:
        return step_at.astimezone(UTC)
    return hold_until(quiet, tz_name, step_at)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time zone: expected a name like 'Europe/Berlin', got {name!r}") from None


def _window_end(quiet: QuietHours, zone: ZoneInfo, inside: datetime) -> datetime:
    """The first instant after ``inside`` (a UTC instant within the window) at local ``end``."""
    local = inside.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    wall = datetime.combine(day, quiet.end)
    readings = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    real = [r for r in readings if r.astimezone(zone).replace(tzinfo=None) == wall]
    if real:
        return min(r for r in real if r > inside)
    return local_to_utc(day, quiet.end, zone)  # ``end`` skipped by spring-forward: the gap's end
