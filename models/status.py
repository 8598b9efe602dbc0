"""Every status a row can be in, and what each occurrence status means. Pure.

The values are the strings stored in the database: renaming one needs a migration.

This is a leaf module, read through ``models.occurrence`` (which re-exports it). It stands
apart only because ``models.escalation`` needs the statuses and ``models.occurrence`` needs
``models.escalation``: one module holding both would import itself in a circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from models.board import BoardStatus


class Status(StrEnum):
    """``occurrence.status``: where one duty for one person on one day stands."""

    OPEN = "open"  # nudged or to be nudged; no answer yet
    BLOCKED = "blocked"  # the person reported a block
    LATE = "late"  # the person promised a new time ("later")
    DONE = "done"
    EXCUSED = "excused"  # a leader excused it, with a reason
    ABSENT = "absent"  # the person is away that day (planned so)
    CANCELLED = "cancelled"  # the plan no longer has it
    RESOLVED = "resolved"  # a leader resolved the block
    REASSIGNED = "reassigned"  # a leader gave it to somebody else (``reassigned_to``)


class NudgeState(StrEnum):
    """``occurrence.nudge_state``: what became of the occurrence's nudge."""

    PENDING = "pending"  # not yet nudged
    QUEUED = "queued"  # in the outbox
    LATE = "late"  # queued after a downtime, marked late
    SKIPPED = "skipped"  # its time passed during a downtime (or its message went stale)
    NONE = "none"  # never nudged: absent, cancelled or already answered
    NO_CHAT = "no_chat"  # the person has no Telegram chat yet


class NoticeState(StrEnum):
    """``notice.state``: an escalation notice on its way to its recipient."""

    PENDING = "pending"  # waiting for its delivery time
    QUEUED = "queued"  # in a message of the outbox
    MOOT = "moot"  # its item finished while it waited: not sent
    UNDELIVERABLE = "undeliverable"  # its recipient has no chat: recorded, not sent


class OutboxState(StrEnum):
    """``outbox.state``: a message to send."""

    PENDING = "pending"  # to be sent (again) at ``next_attempt_at``
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"
    SKIPPED = "skipped"  # stale: no longer worth sending
    DEAD = "dead"  # given up; reported to the admins


@dataclass(frozen=True, slots=True)
class Traits:
    """What one occurrence status means to each part of the bot."""

    finished: bool  # nothing more happens: no climb, no leader action, no notice to send
    answerable: bool  # its person may still answer it
    taken: bool  # somebody closed it: a leader's message says so instead of offering buttons
    buttons: bool  # its nudge line keeps the Done / Blocked / Later buttons
    board: BoardStatus | None  # how the leader's board counts it (None: not on the board)


# The one table: every status, every trait. Each set below is read off it.
TRAITS: Mapping[Status, Traits] = MappingProxyType(
    {
        #                         finished answerable taken  buttons board
        Status.OPEN: Traits(      False,   True,      False, True,   "open"),
        Status.BLOCKED: Traits(   False,   True,      False, True,   "blocked"),
        Status.LATE: Traits(      False,   True,      False, True,   "late"),
        Status.DONE: Traits(      True,    True,      True,  True,   "done"),
        Status.EXCUSED: Traits(   True,    False,     True,  False,  "excused"),
        Status.ABSENT: Traits(    True,    False,     False, False,  "absent"),
        Status.CANCELLED: Traits( True,    False,     False, False,  None),
        Status.RESOLVED: Traits(  True,    True,      True,  False,  "done"),
        Status.REASSIGNED: Traits(True,    True,      True,  False,  None),
    }
)  # fmt: skip

FINISHED = frozenset(s for s, t in TRAITS.items() if t.finished)
LIVE = frozenset(Status) - FINISHED  # open, blocked, late: the climb goes on
CLOSED = frozenset(s for s, t in TRAITS.items() if not t.answerable)  # take no answers
TAKEN = frozenset(s for s, t in TRAITS.items() if t.taken)
MOOT: frozenset[str] = FINISHED  # nothing left to tell a leader: a waiting notice is moot
WITH_BUTTONS = frozenset(s for s, t in TRAITS.items() if t.buttons)
BOARD: Mapping[str, BoardStatus] = MappingProxyType(
    {s.value: t.board for s, t in TRAITS.items() if t.board is not None}
)
# What the planner writes; a row still in one of these was neither answered nor taken.
PLANNED = frozenset({Status.OPEN, Status.ABSENT, Status.CANCELLED})
NUDGED = frozenset({NudgeState.QUEUED, NudgeState.LATE})  # the nudge went out


def status_of(value: str) -> Status:
    """The stored status as a ``Status``. ValueError for a value no release writes (a row
    edited by hand, or from a newer release): never guessed to be anything."""
    try:
        return Status(value)
    except ValueError:
        known = ", ".join(Status)
        raise ValueError(f"status: expected one of {known}, got {value!r}") from None
