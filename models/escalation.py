"""The next escalation step for one occurrence (policies: ``models.policies``).

``next_step`` gives the one next thing to do for an occurrence and when; j = levels_done (level
steps already executed, repeats included):

- status "open": reminder i at due_at + reminders[i]; level j at due_at + after[j];
- status "blocked": level 0 at blocked_at (at once), level j >= 1 at blocked_at + after[j];
  ``on_blocked`` restarts the climb (levels_done = 0) because a block needs a decision;
- status "late" (the person promised new_due_at): nothing before new_due_at; level 0 at
  due_at + after[0], level j >= 1 at last_step_at + (after[j] - after[j-1]): it climbs from
  where it was, with the policy's gaps, and a promise never brings a step forward;
- repeats of the last level: last_step_at + repeat_every, at most repeat_max times;
- then an "end" step: last_step_at + repeat_every with repeats, else last_step_at (at once);
- an ack holds every level, repeat and end step until acked_at + ack_timeout (reason
  "ack_timeout" when the ack is what held it); executing the step clears the ack;
- reminders go only while "open", before any level step and without an ack. A reminder whose
  time passed while a later reminder or the first level is also due is skipped (after a
  downtime the person gets the latest reminder only, none once the item has escalated);
- a reminder never comes before the nudge: one timed at or before ``nudge_at`` is never sent
  (the nudge itself is the reminder), and one that comes due while the nudge has not gone out
  (``nudged`` false: not yet sent, or skipped after a downtime) is skipped, so a duty that was
  never nudged gets no reminder;
- levels, repeats and end are never skipped: after a downtime the overdue ones come one after
  another. ``apply_step`` records an executed step (last_step_at = when it was executed, so
  repeats after a downtime are spaced from then) and refuses a step twice.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from models.orgtree import Chain, OrgTree
from models.policies import Policy, Target
from models.status import FINISHED
from models.status import Status as OccurrenceStatus

Status = Literal[
    "open", "blocked", "late", "done", "excused", "absent", "cancelled", "resolved", "reassigned"
]
StepKind = Literal["remind", "escalate", "end"]
Reason = Literal["silence", "block", "ack_timeout", "missed_commitment"]

# ``Status`` names the values of ``models.status.Status`` (tests/core checks it); the set of
# statuses and which of them are finished are defined there.
STATUSES: tuple[str, ...] = tuple(OccurrenceStatus)
_REASONS: Mapping[str, Reason] = {
    "open": "silence",
    "blocked": "block",
    "late": "missed_commitment",
}


@dataclass(frozen=True, slots=True)
class EscalationState:
    """What the engine needs to know about one occurrence. Instants are aware."""

    due_at: datetime
    status: Status = "open"
    blocked_at: datetime | None = None  # set while "blocked"
    new_due_at: datetime | None = None  # the promised time, set while "late"
    reminders_sent: int = 0  # reminders sent or skipped
    levels_done: int = 0  # level steps executed, repeats included
    last_step_at: datetime | None = None  # when the last level step was executed
    acked_at: datetime | None = None
    acked_by: int | None = None
    ended: bool = False
    nudge_at: datetime | None = None  # when the duty's nudge is (was) due; None: no rule
    nudged: bool = True  # whether the nudge went out (False: not yet, or skipped)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {', '.join(STATUSES)}, got {self.status!r}")
        for name in ("due_at", "blocked_at", "new_due_at", "last_step_at", "acked_at", "nudge_at"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name}: expected an aware datetime, got {value!r}")
        if self.status == "blocked" and self.blocked_at is None:
            raise ValueError('blocked_at: expected an instant while status is "blocked"')
        if self.status == "late" and self.new_due_at is None:
            raise ValueError('new_due_at: expected an instant while status is "late"')
        if self.reminders_sent < 0 or self.levels_done < 0:
            raise ValueError("reminders_sent and levels_done: expected zero or more")
        if self.levels_done and self.last_step_at is None:
            raise ValueError("last_step_at: expected an instant once a level step was executed")
        if (self.acked_at is None) != (self.acked_by is None):
            raise ValueError("acked_at and acked_by: expected both or neither")


@dataclass(frozen=True, slots=True)
class Step:
    """The next thing to do for an occurrence; due once ``at <= now``.

    ``index``: the reminder's position for "remind", else the level step (levels_done).
    """

    kind: StepKind
    at: datetime
    index: int
    target: Target | None  # None for "remind" (the person) and "end"
    reason: Reason


# --- the engine ------------------------------------------------------------------------------


def next_step(state: EscalationState, policy: Policy, now: datetime) -> Step | None:
    """The single next step for the occurrence, due or not; None when nothing more will
    happen (done, excused, absent, cancelled or ended)."""
    if state.ended or state.status in FINISHED:
        return None
    climb = _climb(state, policy)
    if state.status == "open" and state.levels_done == 0 and state.acked_at is None:
        reminder = _reminder(state, policy, now, climb.at)
        if reminder is not None:
            return reminder
    return climb


def apply_step(state: EscalationState, step: Step, now: datetime) -> EscalationState:
    """The state after ``step`` was executed at ``now``. ValueError for a step that is not due
    or does not follow the state (executed already, or out of order)."""
    if step.at > now:
        raise ValueError(f"step: not due until {step.at.isoformat()}")
    if state.ended or state.status in FINISHED:
        raise ValueError("step: nothing more happens for this occurrence")
    if step.kind == "remind":
        if state.levels_done or step.index < state.reminders_sent:
            raise ValueError(f"step: reminder {step.index} was sent or skipped already")
        return replace(state, reminders_sent=step.index + 1)
    if step.index != state.levels_done:
        raise ValueError(f"step: expected level step {state.levels_done}, got {step.index}")
    if step.kind == "escalate":
        return replace(
            state, levels_done=step.index + 1, last_step_at=now, acked_at=None, acked_by=None
        )
    return replace(state, ended=True, acked_at=None, acked_by=None)


def on_blocked(state: EscalationState, at: datetime) -> EscalationState:
    """The person reported a block at ``at``: a fresh climb from level 1, at once."""
    return replace(
        state,
        status="blocked",
        blocked_at=at,
        new_due_at=None,
        levels_done=0,
        last_step_at=None,
        acked_at=None,
        acked_by=None,
        ended=False,
    )


def on_later(state: EscalationState, new_due_at: datetime) -> EscalationState:
    """The person promised ``new_due_at``: the climb waits for it, then goes on."""
    return replace(state, status="late", new_due_at=new_due_at)


def on_acked(state: EscalationState, by: int, at: datetime) -> EscalationState:
    """Somebody said "I'll handle it" at ``at``: the climb holds for the policy's ack_timeout."""
    return replace(state, acked_at=at, acked_by=by)


def resolve_target(
    target: Target,
    chain: Chain,
    tree: OrgTree,
    person_id: int,
    absent: frozenset[int] = frozenset(),
) -> list[int]:
    """Person ids to notify for a level of ``person_id``'s occurrence.

    "next": the target's chain link (past the top: the top). "post:<name>": the nearest present
    holder walking up from the person's unit. "people:<keys>": those people, leaving out unknown
    keys, inactive or absent people and the person themselves. Empty when nobody fits.
    """
    if target.kind == "next":
        if not chain.links:
            return []
        return [chain.links[min(target.link, len(chain.links) - 1)].person_id]
    if target.kind == "post":
        holder = tree.nearest_holder_up(person_id, target.post, absent)
        return [] if holder is None else [holder]
    found: list[int] = []
    for key in target.keys:
        candidate = tree.person_id(key)
        if (
            candidate is not None
            and candidate != person_id
            and candidate not in absent
            and candidate not in found
            and tree.person(candidate).active
        ):
            found.append(candidate)
    return found


def _climb(state: EscalationState, policy: Policy) -> Step:
    """The next level, repeat or end step (timing rules in the module docstring)."""
    levels = policy.levels
    j = state.levels_done
    repeats = policy.repeat_max if policy.repeat_every is not None else 0
    gap = policy.repeat_every or timedelta(0)
    kind: StepKind = "escalate"
    target: Target | None = levels[min(j, len(levels) - 1)].notify
    if j >= len(levels) + repeats:
        kind, target = "end", None
        at = _since_last(state, gap)
    elif j >= len(levels):
        at = _since_last(state, gap)
    elif state.status == "blocked":
        assert state.blocked_at is not None  # checked by EscalationState
        at = state.blocked_at if j == 0 else state.blocked_at + levels[j].after
    elif state.status == "late" and j > 0:
        at = _since_last(state, levels[j].after - levels[j - 1].after)
    else:
        at = state.due_at + levels[j].after
    if state.status == "late":
        assert state.new_due_at is not None  # checked by EscalationState
        at = max(at, state.new_due_at)
    reason = _REASONS[state.status]
    if state.acked_at is not None and state.acked_at + policy.ack_timeout >= at:
        at, reason = state.acked_at + policy.ack_timeout, "ack_timeout"
    return Step(kind, at, j, target, reason)


def _reminder(
    state: EscalationState, policy: Policy, now: datetime, climb_at: datetime
) -> Step | None:
    """The reminder to send next, if any: the latest one due (once the nudge went out), or
    else the next to come; never one timed at or before the nudge."""
    if climb_at <= now:
        return None
    pending = [
        (index, state.due_at + offset)
        for index, offset in enumerate(policy.reminders)
        if index >= state.reminders_sent and _after_nudge(state, offset)
    ]
    due = [entry for entry in pending if entry[1] <= now]
    if due and state.nudged:
        index, at = due[-1]
        return Step("remind", at, index, None, "silence")
    coming = [entry for entry in pending if entry[1] > now]
    if not coming:
        return None
    index, at = coming[0]
    return Step("remind", at, index, None, "silence")


def _after_nudge(state: EscalationState, offset: timedelta) -> bool:
    """Whether a reminder at ``offset`` from the due time comes after the nudge."""
    return state.nudge_at is None or state.due_at + offset > state.nudge_at


def _since_last(state: EscalationState, gap: timedelta) -> datetime:
    assert state.last_step_at is not None  # levels_done > 0, checked by EscalationState
    return state.last_step_at + gap
