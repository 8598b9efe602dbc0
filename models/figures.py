"""The supervision figures: one definition, used by every report. Pure.

Figures count occurrences (one duty, one person, one plant day) whose ``day`` is in the
period. A night shift's occurrence has the day its shift started (that is how the planner
stores ``day``), so it counts on that day, whatever day it ends on. Instants are compared
as instants (UTC): a DST change moves no figure.

Which occurrences count:
- **due**: every occurrence of the period except the cancelled (the plan no longer has it)
  and the reassigned (given to somebody else: the new person's own occurrence counts, for
  them). ``due = on_time + late + not_done + open + excused + absent``, always.

The outcome, exactly one per counted occurrence, by its status now:
- **excused** (a leader excused it) and **absent** (the person was away): counted apart,
  and left out of the rate's denominator.
- **on time**: done at or before its deadline; **late** (the guide's "delay"): done after
  it. "Done" is status done at ``status_at`` (when the person answered done, with its
  evidence where the duty asks for some), or status resolved (a leader resolved the block,
  which closes the item as done, as the board counts it) at the time it was resolved. The
  **deadline** is the due time, or the time promised by the person's latest "later" answer
  when that is after it: a promise kept is on time, a promise broken is late (or not done).
  Any promise counts, whenever it was made (answers are only taken until the deadline and
  its grace, and a promise reaches at most seven days ahead).
- **not done** ("non-execution"): still open, blocked or late (never done) and its
  escalation has ended by ``now``; **open**: the same while it has not. The escalation has
  ended when its climb took its end step (``escalation_ended``), or when nothing more will
  happen (no next step: an occurrence without a policy) and its deadline is before ``now``.

Counted beside the outcome (each also counts in exactly one outcome above):
- **blocked**, by side of the iron triangle (``models.replies.TRIANGLE``): the occurrence's
  latest answer is a block, whatever came of it (resolved, excused, still blocked). Its side
  is that of the latest block answer that named a category (a note on a block names none);
  waiting and materials are **process**, help is **skill**, other (or none named) is
  **other**. A block the person got past by answering done afterwards is not counted.
- **unresolved** ("inaction", a leader's failure): status still blocked (nobody resolved,
  excused or reassigned it, and the person did not answer again) and its escalation has
  ended by ``now``; each is also a **not done**.
- **false execution**: a "done" rejected on verification. Zero until verification exists.

The **execution rate** = on time / (due - excused - absent); None when that is zero.

A person's figures are those of their occurrences; a unit's cover every occurrence of the
people now in the unit or any unit below it (an occurrence belongs to its person's current
unit, as on the board). ``bot.store.figures`` computes the same by SQL; tests check the two
agree on every case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from models.replies import TRIANGLE, Category
from models.status import Status

# Statuses that never count, and those that are "done" (at ``status_at``).
UNCOUNTED = frozenset({Status.CANCELLED, Status.REASSIGNED})
DONE = frozenset({Status.DONE, Status.RESOLVED})
NOT_YET = frozenset({Status.OPEN, Status.BLOCKED, Status.LATE})  # never done (yet)


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts of occurrences; see the module docstring for what each means."""

    due: int = 0
    on_time: int = 0
    late: int = 0
    not_done: int = 0
    open: int = 0
    blocked_process: int = 0
    blocked_skill: int = 0
    blocked_other: int = 0
    unresolved: int = 0
    false_execution: int = 0
    excused: int = 0
    absent: int = 0

    def __add__(self, other: Figures) -> Figures:
        if not isinstance(other, Figures):
            return NotImplemented
        return Figures(*(getattr(self, n) + getattr(other, n) for n in FIELDS))

    @property
    def blocked(self) -> int:
        return self.blocked_process + self.blocked_skill + self.blocked_other

    @property
    def rate(self) -> float | None:
        """On time / (due - excused - absent); None when nothing is left to count."""
        counted = self.due - self.excused - self.absent
        return None if counted <= 0 else self.on_time / counted


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Figures))
ZERO = Figures()


@dataclass(frozen=True, slots=True)
class Facts:
    """What one occurrence's figures depend on, as stored.

    ``status``, ``status_at``, ``due_at``, ``escalation_ended`` and ``next_step_at`` are the
    occurrence's columns. From its replies: ``promised_at``, what its latest "later" answer
    promised (None: none); ``last_answer``, the kind of its latest reply (done, blocked,
    later; None: no reply); ``block_category``, the category of its latest block answer
    that named one."""

    status: str
    due_at: datetime
    status_at: datetime
    escalation_ended: bool = False
    next_step_at: datetime | None = None
    promised_at: datetime | None = None
    last_answer: str | None = None
    block_category: str | None = None


def deadline(facts: Facts) -> datetime:
    """The due time, or the promised time when a "later" promised one after it."""
    promised = facts.promised_at
    return promised if promised is not None and promised > facts.due_at else facts.due_at


def escalation_over(facts: Facts, now: datetime) -> bool:
    """Whether the occurrence's escalation has ended by ``now``: its end step was taken, or
    no step is pending and its deadline is before ``now``."""
    return facts.escalation_ended or (facts.next_step_at is None and deadline(facts) < now)


def block_side(category: str | None) -> str:
    """process, skill or other: the iron-triangle side of a block's category."""
    try:
        return TRIANGLE[Category(category)] if category is not None else "other"
    except ValueError:
        return "other"


def classify(facts: Facts, now: datetime) -> Figures:
    """The figures one occurrence contributes (``ZERO`` for one that does not count).
    ValueError for a status no release writes."""
    status = Status(facts.status)
    if status in UNCOUNTED:
        return ZERO
    counts = {"due": 1}
    if status is Status.EXCUSED:
        counts["excused"] = 1
    elif status is Status.ABSENT:
        counts["absent"] = 1
    elif status in DONE:
        counts["on_time" if facts.status_at <= deadline(facts) else "late"] = 1
    else:
        over = escalation_over(facts, now)
        counts["not_done" if over else "open"] = 1
        if status is Status.BLOCKED and over:
            counts["unresolved"] = 1
    if facts.last_answer == "blocked":
        counts[f"blocked_{block_side(facts.block_category)}"] = 1
    return Figures(**counts)


def total(items: list[Figures]) -> Figures:
    """The sum of several figures (``ZERO`` for none)."""
    result = ZERO
    for item in items:
        result = result + item
    return result


def streak(facts: Iterable[Facts], now: datetime) -> int:
    """The on-time streak: how many of the latest finished occurrences, counting back from
    the latest (by due time), were done on time in a row. Finished: on time, late or not
    done (``classify``); open ones (not decided yet), excused, absent and uncounted ones are
    passed over, neither counting nor breaking the streak. A late or not done one ends it."""
    count = 0
    for item in sorted(facts, key=lambda f: f.due_at, reverse=True):
        figures = classify(item, now)
        if figures.on_time:
            count += 1
        elif figures.late or figures.not_done:
            break
    return count
