"""When the weekly report is due, and which week it covers. Pure.

``[reports] weekly_at`` names a weekday and a local time ("mon 07:00"). In each leader's time
zone, the report of a week is due from that instant on, for ``LATE_LIMIT``: a bot that was
down sends it when it is back (once: the send day is the report's dedupe key), but a report
more than 12 hours late is left for next week's. It covers the seven plant days before the
send day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LATE_LIMIT = timedelta(hours=12)
WEEK = timedelta(days=7)


def parse_weekly_at(value: str) -> tuple[int, time]:
    """ "mon 07:00" -> (0, 07:00). ValueError with a message for the config file."""
    parts = value.strip().lower().split()
    problem = f'expected a weekday and a time such as "mon 07:00", got {value!r}'
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        raise ValueError(problem)
    try:
        hours, minutes = (int(p) for p in parts[1].split(":"))
        at = time(hours, minutes)
    except ValueError:
        raise ValueError(problem) from None
    return WEEKDAYS.index(parts[0][:3]), at


def send_day(local_now: datetime, weekday: int, at: time) -> date | None:
    """The day (local) of the weekly report due at ``local_now`` (a naive or aware local
    time), or None when none is: the latest ``weekday`` at ``at`` not after ``local_now``,
    if it is at most ``LATE_LIMIT`` ago."""
    today = local_now.date()
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    naive = local_now.replace(tzinfo=None)
    scheduled = datetime.combine(day, at)
    if scheduled > naive:
        day -= WEEK
        scheduled -= WEEK
    return day if naive - scheduled <= LATE_LIMIT else None


def covered(day: date) -> tuple[date, date]:
    """The plant days a report sent on ``day`` covers: the seven days before it."""
    return day - WEEK, day - timedelta(days=1)
