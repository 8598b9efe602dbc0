"""Deciding nudges: which due occurrences go out now, late, or not at all, and how they are
grouped into messages. Pure: plain rows and ``now`` in, decisions out.

Rules:
- One message per person per nudge instant, listing every duty nudged then, by number.
- A nudge goes out on time if ``now`` is within ``late_after`` of its nudge instant.
- Later than that (the bot was down), it still goes out, marked late, if the duty is open
  and not yet due; otherwise it is recorded as not nudged ("skipped"), never sent stale.
- Absent people and cancelled or already answered duties are never nudged ("none").
- A person without a Telegram chat (never joined) cannot be nudged ("no_chat").
- A message longer than Telegram's 4096 characters, or with more than ``MAX_ITEMS`` duties
  (each brings a row of buttons), is split between duties, never inside one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.status import NudgeState
from models.text_limits import TEXT_LIMIT

MAX_ITEMS = 25


class Verdict(StrEnum):
    """What to do with a due nudge; its value is the nudge state recorded."""

    SEND = NudgeState.QUEUED.value
    SEND_LATE = NudgeState.LATE.value
    SKIP = NudgeState.SKIPPED.value
    NONE = NudgeState.NONE.value
    NO_CHAT = NudgeState.NO_CHAT.value


@dataclass(frozen=True, slots=True)
class DueNudge:
    occurrence_id: int
    person_id: int
    chat_id: int | None
    nudge_at: datetime
    due_at: datetime
    status: str
    number: int


def judge(item: DueNudge, now: datetime, late_after: timedelta) -> Verdict:
    if item.status != "open":
        return Verdict.NONE
    if now - item.nudge_at <= late_after:
        verdict = Verdict.SEND
    elif item.due_at > now:
        verdict = Verdict.SEND_LATE
    else:
        return Verdict.SKIP
    return verdict if item.chat_id is not None else Verdict.NO_CHAT


@dataclass(frozen=True, slots=True)
class NudgeGroup:
    person_id: int
    chat_id: int
    nudge_at: datetime
    late: bool
    items: tuple[DueNudge, ...]


@dataclass(frozen=True, slots=True)
class NudgeDecisions:
    groups: list[NudgeGroup]
    states: dict[int, Verdict]  # occurrence id -> nudge state to record


def decide(items: Iterable[DueNudge], now: datetime, late_after: timedelta) -> NudgeDecisions:
    states: dict[int, Verdict] = {}
    grouped: dict[tuple[int, datetime], list[DueNudge]] = {}
    late: dict[tuple[int, datetime], bool] = {}
    for item in items:
        verdict = judge(item, now, late_after)
        states[item.occurrence_id] = verdict
        if verdict in (Verdict.SEND, Verdict.SEND_LATE):
            key = (item.person_id, item.nudge_at)
            grouped.setdefault(key, []).append(item)
            late[key] = late.get(key, False) or verdict is Verdict.SEND_LATE
    groups = [
        NudgeGroup(
            person_id=key[0],
            chat_id=members[0].chat_id or 0,
            nudge_at=key[1],
            late=late[key],
            items=tuple(sorted(members, key=lambda m: (m.number, m.occurrence_id))),
        )
        for key, members in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    return NudgeDecisions(groups, states)


def split_blocks(
    header: str, blocks: Sequence[str], limit: int = TEXT_LIMIT, max_items: int = MAX_ITEMS
) -> list[list[int]]:
    """Indexes of ``blocks`` per message, so that header + blocks fit ``limit`` characters
    and ``max_items``. A block is one duty's text; it is never split itself (a single block
    longer than the limit is cut by the renderer before it gets here)."""
    parts: list[list[int]] = [[]]
    size = len(header)
    for index, block in enumerate(blocks):
        grows = len(block) + 1  # the newline before it
        if parts[-1] and (size + grows > limit or len(parts[-1]) >= max_items):
            parts.append([])
            size = len(header)
        parts[-1].append(index)
        size += grows
    return parts if parts[0] else []
