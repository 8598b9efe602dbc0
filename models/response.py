"""Leader response: how long leaders take to act on what reaches them (pure).

A sample is one escalation notice (an item, or a block, for a leader) and what came of it:
the time from the message reaching the leader (Telegram took it) to that leader's first action
on the item after it (I'll handle it, Excuse, Nudge again, Reassign, Resolved), or none. The
figures per level of the tree (the plant's leader 0, a workshop's 1, ...: the shallowest unit
the leader leads or deputises; None for someone a policy names who leads nothing) are the
median and the 90th percentile of the answered samples, by the nearest-rank method (the
``ceil(q * n)``-th smallest: always a time that was measured), and how many went unanswered.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

# The audit events that are a leader acting on an item (bot/services/actions.py, reassign.py).
LEADER_ACTIONS = (
    "escalation.acked",
    "escalation.renudged",
    "occurrence.excused",
    "occurrence.reassigned",
    "block.resolved",
)


@dataclass(frozen=True, slots=True)
class Response:
    answered: int
    unanswered: int
    median: timedelta | None
    p90: timedelta | None


def nearest_rank(sorted_values: list[float], q: float) -> float:
    """The ``ceil(q * n)``-th smallest of ``sorted_values`` (not empty; 0 < q <= 1)."""
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def summarise(samples: Iterable[tuple[int | None, float | None]]) -> dict[int | None, Response]:
    """Per level, from ``(level, seconds to the action or None)`` samples."""
    answered: dict[int | None, list[float]] = defaultdict(list)
    unanswered: dict[int | None, int] = defaultdict(int)
    for level, seconds in samples:
        if seconds is None:
            unanswered[level] += 1
        else:
            answered[level].append(max(seconds, 0.0))
    result = {}
    for level in {*answered, *unanswered}:
        times = sorted(answered.get(level, []))
        median = timedelta(seconds=nearest_rank(times, 0.5)) if times else None
        p90 = timedelta(seconds=nearest_rank(times, 0.9)) if times else None
        result[level] = Response(len(times), unanswered.get(level, 0), median, p90)
    return result


def levels(parents: dict[int, int | None], led: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each leader's level: the depth (plant 0) of the shallowest unit they lead or deputise.
    ``parents``: unit id -> parent id; ``led``: (person id, unit id) pairs."""

    def depth(unit: int) -> int:
        steps, seen = 0, {unit}
        while (parent := parents.get(unit)) is not None and parent not in seen:
            seen.add(parent)
            unit, steps = parent, steps + 1
        return steps

    found: dict[int, int] = {}
    for person, unit in led:
        found[person] = min(found.get(person, depth(unit)), depth(unit))
    return found
