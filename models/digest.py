"""The daily digest's rules. Pure.

When: each leader gets one digest per local day, at ``[reports] digest_at`` in their time
zone (default: ``[replies] day_end``, the end of the working day), or at the first pass after
it that same local day (a bot down at that minute sends it when it is back, never the next
day). A leader on rotating shifts (a ``crew``) gets the digest of a day they work at the end
of their shift that started that day (a night shift's, the next morning: a night shift
belongs to the day it started), or at the first pass after it on the local day it ended; on
a day off, at ``digest_at`` like everyone. Whom: the leaders of active units (not their
deputies: a deputy reads ``/report``). Off per person with ``/digest off``.

What: the figures (``models.figures``) of the leader's local day, for each unit one level
below each unit they lead (its whole subtree), then for each person of their own units. A
day on which nothing was due there sends nothing.

Trend: each line's rate today against its rate over the previous four weeks (the 28 days
before, all of them, as one rate): ↑ at least ``TREND_STEP`` (5 percentage points) higher, ↓
at least that much lower, → within; no arrow when either rate is none (nothing counted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from models.figures import Figures

TREND_STEP = 0.05  # a rate this much (or more) above or below the four weeks' is a trend
TREND_DAYS = 28  # the previous four weeks
UP, DOWN, SAME = "↑", "↓", "→"
HOLDERS_SHOWN = 3  # the people holding most open items, named on a unit's line


def trend(today: float | None, before: float | None) -> str:
    """↑, ↓ or → for today's rate against the previous four weeks'; "" when either is none."""
    if today is None or before is None:
        return ""
    if today >= before + TREND_STEP - 1e-9:
        return UP
    if today <= before - TREND_STEP + 1e-9:
        return DOWN
    return SAME


def trend_period(day: date) -> tuple[date, date]:
    """The previous four weeks: the 28 days before ``day``."""
    return day - timedelta(days=TREND_DAYS), day - timedelta(days=1)


def due(local_now: datetime, at: time) -> bool:
    """Whether the digest of ``local_now``'s day is due: its local time is ``at`` or later."""
    return local_now.time().replace(tzinfo=None) >= at


def due_days(
    local_now: datetime, at: time, shift_end: Callable[[date], datetime | None] | None = None
) -> list[date]:
    """The days whose digest is due at ``local_now`` (the leader's wall clock, aware): today's
    from ``at`` on; with shifts (``shift_end(day)``: the end of the leader's shift that
    started on ``day``, None on a day off), a worked day's from its shift's end until the end
    of the local day it ended on, and a day off's from ``at``."""
    today = local_now.date()
    if shift_end is None:
        return [today] if due(local_now, at) else []
    found = []
    for day in (today - timedelta(days=1), today):
        end = shift_end(day)
        if end is None:
            if day == today and due(local_now, at):
                found.append(day)
        elif end <= local_now and end.astimezone(local_now.tzinfo).date() == today:
            found.append(day)
    return found


def undone(figures: Figures) -> int:
    """Items nobody has done yet (open, or not done once the escalation ended)."""
    return figures.open + figures.not_done


def percent(rate: float | None) -> str:
    """A rate as a whole percentage ("87%"), "—" for none."""
    return "—" if rate is None else f"{round(rate * 100)}%"


def top_holders(counts: dict[int, int], limit: int = HOLDERS_SHOWN) -> list[tuple[int, int]]:
    """(person id, items) of the people holding most undone items, most first (then by id),
    at most ``limit``; nobody with none."""
    ranked = sorted(((pid, n) for pid, n in counts.items() if n > 0), key=lambda x: (-x[1], x[0]))
    return ranked[:limit]
