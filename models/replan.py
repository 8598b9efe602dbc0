"""Reconciling the plan with what is stored: create the new, re-plan the future, never touch
the past. Pure: planned rows, stored rows and ``now`` in; writes to make out.

Rules:
- An occurrence is created only if its due instant is still ahead (a fresh install started at
  noon does not invent a morning's missed duties).
- A stored occurrence that has not been nudged yet and whose nudge is still ahead follows the
  plan: new times, absent or open again, or ``cancelled`` when the plan no longer has it (duty
  removed, person left, schedule changed). Anything already nudged, answered or past is history
  and stays as it is.
- Numbers ("done 1 3") are per person and day, in order of nudge, due and duty id; new rows
  continue after the highest number already used that day, so a number never changes meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import NamedTuple

from models.planning import PlannedOccurrence
from models.status import PLANNED, NudgeState, Status

Key = tuple[int, int, date]  # duty id, person id, day
# new rows are numbered per person and day in order of nudge, due and duty id
_NUMBERING = itemgetter(
    *map(PlannedOccurrence._fields.index, ("person_id", "day", "nudge_at", "due_at", "duty_id"))
)


class StoredOccurrence(NamedTuple):  # named tuples: a plant's pass reads and makes 100,000s
    id: int
    duty_id: int
    person_id: int
    day: date
    number: int
    nudge_at: datetime
    due_at: datetime
    status: str
    nudge_state: str

    @property
    def key(self) -> Key:
        return (self.duty_id, self.person_id, self.day)


class NewOccurrence(NamedTuple):
    planned: PlannedOccurrence
    number: int

    @property
    def status(self) -> str:
        return _planned_status(self.planned.absent)


@dataclass(frozen=True, slots=True)
class Replanned:
    id: int
    nudge_at: datetime
    due_at: datetime
    status: str


@dataclass(slots=True)
class Reconciliation:
    create: list[NewOccurrence] = field(default_factory=list)
    update: list[Replanned] = field(default_factory=list)


def reconcile(
    planned: Iterable[PlannedOccurrence], stored: Iterable[StoredOccurrence], now: datetime
) -> Reconciliation:
    existing = {(row.duty_id, row.person_id, row.day): row for row in stored}
    highest: dict[tuple[int, date], int] = {}
    for row in existing.values():
        slot = (row.person_id, row.day)
        if row.number > highest.get(slot, 0):
            highest[slot] = row.number
    result = Reconciliation()
    fresh: list[PlannedOccurrence] = []
    seen: set[Key] = set()
    for plan in planned:
        key = (plan.duty_id, plan.person_id, plan.day)
        seen.add(key)
        known = existing.get(key)
        if known is None:
            if plan.due_at > now:
                fresh.append(plan)
        elif _replannable(known, now):
            status = _planned_status(plan.absent)
            if (known.nudge_at, known.due_at, known.status) != (plan.nudge_at, plan.due_at, status):
                result.update.append(Replanned(known.id, plan.nudge_at, plan.due_at, status))
    for key, row in existing.items():
        if key not in seen and _replannable(row, now) and row.status != Status.CANCELLED:
            result.update.append(
                Replanned(row.id, row.nudge_at, row.due_at, Status.CANCELLED.value)
            )
    fresh.sort(key=_NUMBERING)
    for plan in fresh:
        slot = (plan.person_id, plan.day)
        highest[slot] = highest.get(slot, 0) + 1
        result.create.append(NewOccurrence(plan, highest[slot]))
    return result


def _replannable(row: StoredOccurrence, now: datetime) -> bool:
    return row.nudge_state == NudgeState.PENDING and row.nudge_at > now and row.status in PLANNED


_ABSENT, _OPEN = Status.ABSENT.value, Status.OPEN.value


def _planned_status(absent: bool) -> str:
    return _ABSENT if absent else _OPEN
