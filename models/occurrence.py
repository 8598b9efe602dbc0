"""The life of one occurrence: its statuses, and every change a person or a leader makes to
it. Pure: a frozen ``OccurrenceState`` and ``now`` in, a new state (or a ``Refused``) out.
The shell copies the new state onto the row (``Occurrence.apply``) and saves it.

Changes:
- ``answer``: the person answered done, blocked or later. A block climbs again from the
  first level at once; a "later" holds the climb until the promised time; done stops it.
  Refused for a status that takes no answers (excused, absent, cancelled).
- ``note``: a note on a block arrived: the block's time moves; nothing else changes (a note
  never reopens a block a leader resolved meanwhile).
- ``ack``: a leader said "I'll handle it": the climb holds for the policy's ack timeout.
- ``close`` (``excuse``, ``resolve``, ``reassign``): a leader closed the item; it records
  who, and its climb ends. Refused once the item is finished; ``resolve`` only for a block.
- ``reopen``: the item comes (back) to a person as a fresh open occurrence with a climb of
  its own: a new row, or one of theirs that is finished. Refused for a row still live.

The statuses and what each means are in ``models.status`` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from models.escalation import EscalationState, next_step, on_acked, on_blocked, on_later
from models.policies import policy_from_json
from models.replies import STATUS_OF, Action
from models.status import (
    BOARD,
    CLOSED,
    FINISHED,
    LIVE,
    MOOT,
    NUDGED,
    PLANNED,
    TAKEN,
    TRAITS,
    WITH_BUTTONS,
    NoticeState,
    NudgeState,
    OutboxState,
    Status,
    Traits,
    status_of,
)

__all__ = [
    "BOARD",
    "CLOSED",
    "FINISHED",
    "LIVE",
    "MOOT",
    "NUDGED",
    "PLANNED",
    "TAKEN",
    "TRAITS",
    "WITH_BUTTONS",
    "NoticeState",
    "NudgeState",
    "OccurrenceState",
    "OutboxState",
    "Refused",
    "Status",
    "Traits",
    "ack",
    "answer",
    "close",
    "escalation_state",
    "excuse",
    "note",
    "reassign",
    "reopen",
    "resolve",
    "status_of",
    "with_escalation",
]


class Refused(StrEnum):
    CLOSED = "closed"  # the status takes no answers
    FINISHED = "finished"  # a leader cannot act on a finished item
    NOT_BLOCKED = "not_blocked"  # only a block can be resolved
    LIVE = "live"  # a row still open is not reopened


@dataclass(frozen=True, slots=True)
class OccurrenceState:
    """The fields of an ``Occurrence`` row its life changes (not its duty, person or day)."""

    status: Status
    status_at: datetime
    number: int
    nudge_at: datetime
    due_at: datetime
    nudge_state: NudgeState
    policy: dict[str, Any] | None  # the escalation policy snapshot (``policy_to_json``)
    urgent: bool
    reminders_sent: int
    levels_done: int
    last_step_at: datetime | None
    blocked_at: datetime | None
    promised_at: datetime | None
    acked_at: datetime | None
    acked_by: int | None
    reassigned_to: int | None
    escalation_ended: bool
    next_step_at: datetime | None


# --- the person ----------------------------------------------------------------------------


def answer(
    state: OccurrenceState, action: Action, now: datetime, promised: datetime | None = None
) -> OccurrenceState | Refused:
    """The person answered: done, blocked, or later (until ``promised``)."""
    if state.status in CLOSED:
        return Refused.CLOSED
    if (action is Action.LATER) != (promised is not None):
        raise ValueError("promised: expected a time with a later, and only then")
    status = Status(STATUS_OF[action])
    moved = replace(
        state,
        status=status,
        status_at=now,
        promised_at=promised if promised is not None else state.promised_at,
        blocked_at=now if status is Status.BLOCKED else state.blocked_at,
    )
    climb = escalation_state(moved)
    if promised is not None:
        climb = on_later(climb, promised)
    elif status is Status.BLOCKED:
        climb = on_blocked(climb, now)
    return with_escalation(moved, climb, now)


def note(state: OccurrenceState, now: datetime) -> OccurrenceState:
    """A note on the block arrived: a block's time moves to ``now``; any other status stays."""
    if state.status is not Status.BLOCKED:
        return state
    return replace(state, status_at=now)


# --- leaders -------------------------------------------------------------------------------


def ack(state: OccurrenceState, by: int, now: datetime) -> OccurrenceState | Refused:
    """A leader took the item ("I'll handle it"): the climb holds."""
    if state.status in FINISHED:
        return Refused.FINISHED
    return with_escalation(state, on_acked(escalation_state(state), by, now), now)


def close(
    state: OccurrenceState, status: Status, by: int | None, now: datetime
) -> OccurrenceState | Refused:
    """A leader closed the item as ``status`` (one of ``TAKEN``): recorded as acked by them
    (the first ack's time is kept), and its climb ends."""
    if status not in TAKEN:
        raise ValueError(f"status: a leader closes as one of {', '.join(sorted(TAKEN))}")
    if state.status in FINISHED:
        return Refused.FINISHED
    return replace(
        state,
        status=status,
        status_at=now,
        acked_by=by,
        acked_at=state.acked_at or now,
        escalation_ended=True,
        next_step_at=None,
    )


def excuse(state: OccurrenceState, by: int | None, now: datetime) -> OccurrenceState | Refused:
    return close(state, Status.EXCUSED, by, now)


def resolve(state: OccurrenceState, by: int | None, now: datetime) -> OccurrenceState | Refused:
    """A leader resolved the block."""
    if state.status not in FINISHED and state.status is not Status.BLOCKED:
        return Refused.NOT_BLOCKED
    return close(state, Status.RESOLVED, by, now)


def reassign(
    state: OccurrenceState, by: int | None, to: int, now: datetime
) -> OccurrenceState | Refused:
    """A leader gave the item to person ``to``; their own occurrence (``reopen``) carries it."""
    closed = close(state, Status.REASSIGNED, by, now)
    return closed if isinstance(closed, Refused) else replace(closed, reassigned_to=to)


def reopen(
    state: OccurrenceState | None,
    *,
    number: int,
    due_at: datetime,
    policy: dict[str, Any] | None,
    urgent: bool,
    now: datetime,
) -> OccurrenceState | Refused:
    """The item as it opens for its new person: nudged at ``now``, due at ``due_at``, with
    list number ``number`` and a fresh climb of ``policy``. ``state``: their row of the same
    duty and day, if there is one; reopened only when finished (no ack, block or end of an
    old climb is kept)."""
    if state is not None and state.status not in FINISHED:
        return Refused.LIVE
    first = None
    if policy:
        step = next_step(EscalationState(due_at=due_at), policy_from_json(policy), now)
        first = step.at if step else None
    return OccurrenceState(
        status=Status.OPEN,
        status_at=now,
        number=number,
        nudge_at=now,
        due_at=due_at,
        nudge_state=NudgeState.PENDING,
        policy=policy,
        urgent=urgent,
        reminders_sent=0,
        levels_done=0,
        last_step_at=None,
        blocked_at=None,
        promised_at=None,
        acked_at=None,
        acked_by=None,
        reassigned_to=None,
        escalation_ended=False,
        next_step_at=first,
    )


# --- the climb -----------------------------------------------------------------------------


def step_due(state: OccurrenceState, now: datetime) -> bool:
    """Whether its climb has a step due by ``now``: after a block (which climbs at once) the
    escalation pass should run now rather than at its next tick; after a done (which ends
    the climb), a later or an ack (which hold it) it need not."""
    return state.next_step_at is not None and state.next_step_at <= now


def escalation_state(state: OccurrenceState) -> EscalationState:
    """What the escalation engine needs to know of the occurrence."""
    status = state.status
    return EscalationState(
        due_at=state.due_at,
        status=status.value,  # mypy checks the engine's Literal names the same values
        blocked_at=state.blocked_at if status is Status.BLOCKED else None,
        new_due_at=state.promised_at if status is Status.LATE else None,
        reminders_sent=state.reminders_sent,
        levels_done=state.levels_done,
        last_step_at=state.last_step_at,
        acked_at=state.acked_at,
        acked_by=state.acked_by,
        ended=state.escalation_ended,
        nudge_at=state.nudge_at,
        nudged=state.nudge_state in NUDGED,
    )


def with_escalation(
    state: OccurrenceState, climb: EscalationState, now: datetime
) -> OccurrenceState:
    """The occurrence with the engine's new ``climb``, and when its next step is due (None:
    no policy, or nothing more will happen)."""
    next_at = None
    if state.policy:
        step = next_step(climb, policy_from_json(state.policy), now)
        next_at = step.at if step else None
    return replace(
        state,
        blocked_at=climb.blocked_at,
        promised_at=climb.new_due_at,
        reminders_sent=climb.reminders_sent,
        levels_done=climb.levels_done,
        last_step_at=climb.last_step_at,
        escalation_ended=climb.ended,
        acked_at=climb.acked_at,
        acked_by=climb.acked_by,
        next_step_at=next_at,
    )
