"""Re-planning: create the new, follow the plan in the future, never touch the past."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models.planning import PlannedOccurrence
from models.replan import Replanned, StoredOccurrence, reconcile

DAY = date(2026, 3, 29)
NOW = datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
H = timedelta(hours=1)


def planned(
    duty: int, person: int = 1, nudge: datetime = NOW + H, absent: bool = False
) -> PlannedOccurrence:
    return PlannedOccurrence(duty, person, DAY, nudge, nudge + 2 * H, absent)


def stored(
    occ_id: int,
    duty: int,
    number: int,
    nudge: datetime = NOW + H,
    *,
    state: str = "pending",
    status: str = "open",
) -> StoredOccurrence:
    return StoredOccurrence(occ_id, duty, 1, DAY, number, nudge, nudge + 2 * H, status, state)


def test_new_occurrences_are_numbered_in_nudge_order() -> None:
    result = reconcile([planned(2, nudge=NOW + 2 * H), planned(1, nudge=NOW + H)], [], NOW)
    assert [(n.planned.duty_id, n.number) for n in result.create] == [(1, 1), (2, 2)]


def test_rerun_changes_nothing() -> None:
    result = reconcile([planned(1)], [stored(10, 1, 1)], NOW)
    assert result.create == [] and result.update == []


def test_numbers_continue_after_existing_ones() -> None:
    result = reconcile([planned(1), planned(3)], [stored(10, 1, 1), stored(11, 2, 2)], NOW)
    assert [(n.planned.duty_id, n.number) for n in result.create] == [(3, 3)]


def test_past_due_is_not_invented() -> None:
    late = planned(1, nudge=NOW - 3 * H)
    assert reconcile([late], [], NOW).create == []


def test_future_follows_the_plan() -> None:
    moved = planned(1, nudge=NOW + 3 * H)
    result = reconcile(
        [moved, planned(2, absent=True)],
        [stored(10, 1, 1), stored(11, 2, 2), stored(12, 3, 3)],
        NOW,
    )
    assert result.update == [
        Replanned(10, NOW + 3 * H, NOW + 5 * H, "open"),
        Replanned(11, NOW + H, NOW + 3 * H, "absent"),
        Replanned(12, NOW + H, NOW + 3 * H, "cancelled"),
    ]


def test_history_is_never_rewritten() -> None:
    nudged = stored(10, 1, 1, state="queued")
    past = stored(11, 2, 2, nudge=NOW - H)
    answered = stored(12, 3, 3, status="done")
    result = reconcile([planned(1, nudge=NOW + 4 * H)], [nudged, past, answered], NOW)
    assert result.update == [] and result.create == []
