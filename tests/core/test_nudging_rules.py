"""Nudge decisions: on time, late after downtime, skipped when stale, grouped per person and
nudge instant, split cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.nudging import DueNudge, Verdict, decide, judge, split_blocks

NUDGE = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST on New York's fall-back day
LATE_AFTER = timedelta(minutes=10)


def item(
    occ: int,
    person: int = 1,
    *,
    nudge: datetime = NUDGE,
    due_in: timedelta = timedelta(hours=2),
    status: str = "open",
    chat: int | None = 100,
    number: int = 1,
) -> DueNudge:
    return DueNudge(occ, person, chat, nudge, nudge + due_in, status, number)


def test_on_time_late_and_skipped() -> None:
    assert judge(item(1), NUDGE + LATE_AFTER, LATE_AFTER) is Verdict.SEND
    assert (
        judge(item(1), NUDGE + LATE_AFTER + timedelta(seconds=1), LATE_AFTER) is Verdict.SEND_LATE
    )
    assert judge(item(1), NUDGE + timedelta(hours=2), LATE_AFTER) is Verdict.SKIP


def test_absent_answered_and_chatless() -> None:
    assert judge(item(1, status="absent"), NUDGE, LATE_AFTER) is Verdict.NONE
    assert judge(item(1, status="done"), NUDGE, LATE_AFTER) is Verdict.NONE
    assert judge(item(1, chat=None), NUDGE, LATE_AFTER) is Verdict.NO_CHAT


def test_one_group_per_person_and_nudge_time() -> None:
    later = NUDGE + timedelta(minutes=30)
    items = [
        item(1, 1, number=2),
        item(2, 1, number=1),
        item(3, 2),
        item(4, 1, nudge=later, number=3),
    ]
    decisions = decide(items, later, LATE_AFTER)
    groups = [
        (g.person_id, g.nudge_at, [i.occurrence_id for i in g.items], g.late)
        for g in decisions.groups
    ]
    assert groups == [
        (1, NUDGE, [2, 1], True),
        (2, NUDGE, [3], True),
        (1, later, [4], False),
    ]


def test_split_keeps_each_block_whole() -> None:
    blocks = ["x" * 1000] * 9
    parts = split_blocks("header", blocks, limit=4096)
    assert parts == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert all(len("header") + sum(len(blocks[i]) + 1 for i in p) <= 4096 for p in parts)


def test_split_by_item_count() -> None:
    assert [len(p) for p in split_blocks("h", ["a"] * 60, max_items=25)] == [25, 25, 10]
    assert split_blocks("h", []) == []
