"""A duty's nudge time and due time, given its schedule.

Nudge time: the duty's own nudge time (org file ``nudge = "07:30"``) if given; otherwise the
cron's time, or the shift's start for a shift schedule. A cron schedule may not have a
separate nudge time. For a shift schedule a given nudge time means the first time the clock
shows it at or after the shift starts (nudge "05:00" on a night shift: the next morning).

Due (org file ``due``)::

    due = "17:00"          # clock time; if not after the nudge, the next calendar day
    due = "+4h"            # delay after the nudge in real elapsed time, at most 7 days
    due = "end-of-shift"   # the shift's end (next day for a night shift); shift schedules only

Local times become UTC by ``models.calendar.local_to_utc`` (spring-forward gap: first instant
after the gap; fall-back overlap: first occurrence).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.calendar import local_to_utc, parse_clock, zone
from models.durations import parse_duration
from models.schedule import Cron, OnShift, Schedule
from models.shifts import ShiftKind


@dataclass(frozen=True, slots=True)
class DueAt:
    """A clock time; if not after the nudge, the same clock time on the next calendar day."""

    at: time


@dataclass(frozen=True, slots=True)
class DueAfter:
    """A delay after the nudge, in real elapsed time."""

    delay: timedelta


@dataclass(frozen=True, slots=True)
class DueEndOfShift:
    """The end of the shift the duty belongs to."""


DueSpec = DueAt | DueAfter | DueEndOfShift

END_OF_SHIFT = "end-of-shift"
DUE_AFTER_MAX = timedelta(days=7)  # the longest "+<delay>" a due may have
_NEEDS_NUDGE = 'needs a nudge time like nudge = "07:30"'
_DUE_FORM = (
    f"expected a time of day like '17:00', a delay like '+4h' or '+90m', or '{END_OF_SHIFT}'"
)


def parse_due(value: object) -> DueSpec:
    if isinstance(value, time):
        return DueAt(parse_clock(value, "due"))
    if not isinstance(value, str):
        raise ValueError(f"due: {_DUE_FORM}, got {value!r}")
    text = value.strip().lower()
    if text == END_OF_SHIFT:
        return DueEndOfShift()
    if text.startswith("+"):
        try:
            delay = parse_duration(text[1:])
        except ValueError as error:
            raise ValueError(f"due: {_DUE_FORM}, got {value!r} ({error})") from None
        if delay > DUE_AFTER_MAX:
            raise ValueError(f"due: a delay of at most +{DUE_AFTER_MAX.days}d, got {value!r}")
        return DueAfter(delay)
    try:
        return DueAt(parse_clock(text, "due"))
    except ValueError:
        raise ValueError(f"due: {_DUE_FORM}, got {value!r}") from None


def check_times(schedule: Schedule, nudge_time: time | None, due: DueSpec) -> None:
    """Reject combinations that cannot give a nudge or due time (raised as ValueError)."""
    if isinstance(schedule, Cron):
        if nudge_time is not None:
            raise ValueError(
                f"the cron {schedule.text!r} already sets the nudge time; drop the separate nudge"
            )
    elif nudge_time is None and not isinstance(schedule, OnShift):
        raise ValueError(_NEEDS_NUDGE)
    if isinstance(due, DueEndOfShift) and not isinstance(schedule, OnShift):
        raise ValueError(f"due '{END_OF_SHIFT}' needs a shift schedule like {{ shift = \"any\" }}")


def nudge_time_for(schedule: Schedule, nudge_time: time | None, shift: ShiftKind | None) -> time:
    """The local nudge time: the duty's own, else the cron's, else the shift's start."""
    if nudge_time is not None:
        return nudge_time
    if isinstance(schedule, Cron):
        return schedule.at
    if shift is not None:
        return shift.start
    raise ValueError(_NEEDS_NUDGE)


def resolve_times(
    day: date,
    nudge_time: time,
    due: DueSpec,
    tz: str | ZoneInfo,
    shift_window: tuple[datetime, datetime] | None = None,
) -> tuple[datetime, datetime]:
    """UTC (nudge_at, due_at) for an occurrence on ``day`` in time zone ``tz``.

    With a shift window the nudge is the first ``nudge_time`` at or after the shift start.
    """
    where = zone(tz)
    nudge_at = local_to_utc(day, nudge_time, where)
    if shift_window is not None and nudge_at < shift_window[0]:
        nudge_at = local_to_utc(day + timedelta(days=1), nudge_time, where)
    if isinstance(due, DueAfter):
        return nudge_at, nudge_at + due.delay
    if isinstance(due, DueEndOfShift):
        if shift_window is None:
            raise ValueError(f"due '{END_OF_SHIFT}' needs a shift")
        return nudge_at, shift_window[1]
    nudge_day = nudge_at.astimezone(where).date()
    due_at = local_to_utc(nudge_day, due.at, where)
    if due_at <= nudge_at:
        due_at = local_to_utc(nudge_day + timedelta(days=1), due.at, where)
    return nudge_at, due_at
