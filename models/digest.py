"""The daily digest's rules. Pure.

When: each leader gets one digest per local day, at ``[reports] digest_at`` in their time
zone (default: ``[replies] day_end``, the end of the working day), or at the first pass after
it that same local day (a bot down at that minute sends it when it is back, never the next
day). Whom: the leaders of active units (not their deputies: a deputy reads ``/report``).
Off per person with ``/digest off``.

What: the figures (``models.figures``) of the leader's local day, for each unit one level
below each unit they lead (its whole subtree), then for each person of their own units. A
day on which nothing was due there sends nothing.

Trend: each line's rate today against its rate over the previous four weeks (the 28 days
before, all of them, as one rate): ↑ at least ``TREND_STEP`` (5 percentage points) higher, ↓
at least that much lower, → within; no arrow when either rate is none (nothing counted).
"""

from __future__ import annotations

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
