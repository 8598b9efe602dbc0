"""models.occurrence: the statuses, what each means, and every transition of an occurrence's
life. Times are exact instants, across the changes of Europe/Berlin's clocks."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from models import escalation
from models import occurrence as life
from models.occurrence import (
    NoticeState,
    NudgeState,
    OccurrenceState,
    OutboxState,
    Refused,
    Status,
)
from models.policies import parse_policies, policy_to_json
from models.replies import Action
from models.tables import Occurrence

BERLIN = ZoneInfo("Europe/Berlin")
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# Summer time begins on 31 March 2024 (02:00 CET -> 03:00 CEST) and ends on 27 October 2024
# (03:00 CEST -> 02:00 CET).
SPRING = datetime(2024, 3, 31, 3, 30, tzinfo=BERLIN).astimezone(UTC)  # due 03:30 CEST
AUTUMN_NOW = datetime(2024, 10, 27, 1, 30, tzinfo=BERLIN).astimezone(UTC)  # 01:30 CEST
# Built in: reminders -30m and 0m; "next" after 30m, 2h and 4h; ack timeout 2h.
STANDARD = policy_to_json(parse_policies({}).policy())


def local(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z")


def state(**changes: object) -> OccurrenceState:
    """An open, nudged occurrence due at SPRING, with the standard policy."""
    base = OccurrenceState(
        status=Status.OPEN,
        status_at=SPRING - 2 * HOUR,
        number=1,
        nudge_at=SPRING - 2 * HOUR,
        due_at=SPRING,
        nudge_state=NudgeState.QUEUED,
        policy=STANDARD,
        urgent=False,
        reminders_sent=0,
        levels_done=0,
        last_step_at=None,
        blocked_at=None,
        promised_at=None,
        acked_at=None,
        acked_by=None,
        reassigned_to=None,
        escalation_ended=False,
        next_step_at=SPRING - 30 * MIN,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- the statuses ------------------------------------------------------------------------------


def test_values_are_the_stored_strings() -> None:
    assert [s.value for s in Status] == [
        "open", "blocked", "late", "done", "excused", "absent", "cancelled", "resolved",
        "reassigned",
    ]  # fmt: skip
    assert [s.value for s in NudgeState] == [
        "pending", "queued", "late", "skipped", "none", "no_chat",
    ]  # fmt: skip
    assert [s.value for s in NoticeState] == ["pending", "queued", "moot", "undeliverable"]
    assert [s.value for s in OutboxState] == ["pending", "sending", "sent", "skipped", "dead"]


def test_every_status_has_its_traits() -> None:
    assert set(life.TRAITS) == set(Status)


def test_the_engine_knows_the_same_statuses() -> None:
    assert set(get_args(escalation.Status)) == {s.value for s in Status}
    assert set(escalation.STATUSES) == {s.value for s in Status}


def test_the_sets_read_off_the_table() -> None:
    assert set(life.FINISHED) == {
        "done",
        "excused",
        "absent",
        "cancelled",
        "resolved",
        "reassigned",
    }
    assert set(life.LIVE) == {"open", "blocked", "late"}
    assert set(life.CLOSED) == {"excused", "absent", "cancelled"}  # take no answers
    assert set(life.TAKEN) == {"done", "excused", "resolved", "reassigned"}
    assert life.MOOT == life.FINISHED
    assert set(life.WITH_BUTTONS) == {"open", "done", "blocked", "late"}
    assert dict(life.BOARD) == {
        "open": "open", "blocked": "blocked", "late": "late", "done": "done",
        "resolved": "done", "excused": "excused", "absent": "absent",
    }  # fmt: skip
    assert set(life.NUDGED) == {"queued", "late"}


def test_the_sets_hold_plain_strings_too() -> None:
    assert "done" in life.FINISHED and "open" not in life.FINISHED
    assert f"status.{Status.RESOLVED}" == "status.resolved"


def test_an_unknown_status_is_an_error_not_done() -> None:
    with pytest.raises(ValueError, match=r"status: expected one of open, .*got 'paused'"):
        life.status_of("paused")
    row = Occurrence(
        duty_id=1, person_id=1, day=date(2024, 3, 31), nudge_at=SPRING, due_at=SPRING,
        status="paused", status_at=SPRING, nudge_state="queued",
    )  # fmt: skip
    with pytest.raises(ValueError, match="'paused'"):
        row.life()


def test_a_row_round_trips_and_keeps_plain_strings() -> None:
    row = Occurrence(duty_id=1, person_id=1, day=date(2024, 3, 31), created_at=SPRING)
    row.apply(state(status=Status.LATE, promised_at=SPRING + HOUR))
    assert type(row.status) is str and row.status == "late"
    assert type(row.nudge_state) is str and row.nudge_state == "queued"
    assert row.life() == state(status=Status.LATE, promised_at=SPRING + HOUR)


# --- the person answers ------------------------------------------------------------------------


def test_done_stops_the_climb() -> None:
    now = SPRING - 10 * MIN
    before = state(reminders_sent=1, promised_at=None)
    after = life.answer(before, Action.DONE, now)
    assert after == replace(before, status=Status.DONE, status_at=now, next_step_at=None)


def test_done_after_a_block_forgets_the_block() -> None:
    blocked = state(status=Status.BLOCKED, blocked_at=SPRING - HOUR, levels_done=1,
                    last_step_at=SPRING - HOUR)  # fmt: skip
    after = life.answer(blocked, Action.DONE, SPRING)
    assert isinstance(after, OccurrenceState)
    assert (after.status, after.blocked_at, after.next_step_at) == (Status.DONE, None, None)
    assert after.levels_done == 1  # history of the climb is kept


def test_a_block_climbs_at_once_from_the_first_level() -> None:
    now = SPRING + 45 * MIN  # after the first level went out and was acked
    before = state(
        levels_done=1, last_step_at=SPRING + 30 * MIN, acked_at=SPRING + 40 * MIN, acked_by=7,
        reminders_sent=2,
    )  # fmt: skip
    after = life.answer(before, Action.BLOCKED, now)
    assert after == replace(
        before, status=Status.BLOCKED, status_at=now, blocked_at=now, levels_done=0,
        last_step_at=None, acked_at=None, acked_by=None, next_step_at=now,
    )  # fmt: skip
    assert local(now) == "2024-03-31 04:15 CEST"


def test_later_waits_for_the_promise_across_the_clock_change() -> None:
    # Answered at 01:30 CEST on the night summer time ends; promised two hours on: 02:30 CET
    # (the second 02:30 of that night), three hours by the wall clock.
    due = AUTUMN_NOW + 15 * MIN
    promised = AUTUMN_NOW + 2 * HOUR
    before = state(due_at=due, nudge_at=due - HOUR, status_at=due - HOUR, reminders_sent=1)
    after = life.answer(before, Action.LATER, AUTUMN_NOW, promised)
    assert isinstance(after, OccurrenceState)
    assert (after.status, after.status_at, after.promised_at) == (
        Status.LATE, AUTUMN_NOW, promised,
    )  # fmt: skip
    # the first level (due + 30m = 02:15 CEST) waits for the promise: 02:30 CET
    assert after.next_step_at == promised == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    assert local(after.next_step_at) == "2024-10-27 02:30 CET"


def test_an_answer_without_a_policy_schedules_nothing() -> None:
    after = life.answer(state(policy=None), Action.BLOCKED, SPRING)
    assert isinstance(after, OccurrenceState)
    assert (after.status, after.blocked_at, after.next_step_at) == (Status.BLOCKED, SPRING, None)


@pytest.mark.parametrize("status", [Status.EXCUSED, Status.ABSENT, Status.CANCELLED])
def test_closed_statuses_take_no_answer(status: Status) -> None:
    assert life.answer(state(status=status), Action.DONE, SPRING) is Refused.CLOSED


@pytest.mark.parametrize("status", [Status.DONE, Status.RESOLVED, Status.REASSIGNED])
def test_other_finished_statuses_still_take_an_answer(status: Status) -> None:
    after = life.answer(state(status=status), Action.BLOCKED, SPRING)
    assert isinstance(after, OccurrenceState) and after.status is Status.BLOCKED


def test_a_later_needs_its_time_and_only_a_later_has_one() -> None:
    with pytest.raises(ValueError, match="promised"):
        life.answer(state(), Action.LATER, SPRING)
    with pytest.raises(ValueError, match="promised"):
        life.answer(state(), Action.DONE, SPRING, SPRING + HOUR)


def test_a_note_moves_a_block_and_leaves_anything_else() -> None:
    blocked = state(status=Status.BLOCKED, blocked_at=SPRING)
    assert life.note(blocked, SPRING + MIN) == replace(blocked, status_at=SPRING + MIN)
    resolved = state(status=Status.RESOLVED)
    assert life.note(resolved, SPRING + MIN) == resolved


# --- leaders -----------------------------------------------------------------------------------


def test_an_ack_holds_the_climb_for_the_timeout() -> None:
    now = SPRING + 40 * MIN
    before = state(levels_done=1, last_step_at=SPRING + 30 * MIN, reminders_sent=2)
    after = life.ack(before, 7, now)
    # level 2 would be due at +2h; the ack holds it until +2h40m
    assert after == replace(before, acked_at=now, acked_by=7, next_step_at=now + 2 * HOUR)
    assert local(now + 2 * HOUR) == "2024-03-31 06:10 CEST"
    assert life.ack(state(status=Status.DONE), 7, now) is Refused.FINISHED


def test_excuse_closes_and_ends_the_climb() -> None:
    now = SPRING + HOUR
    after = life.excuse(state(), 7, now)
    assert after == replace(
        state(), status=Status.EXCUSED, status_at=now, acked_by=7, acked_at=now,
        escalation_ended=True, next_step_at=None,
    )  # fmt: skip


def test_closing_keeps_the_first_ack_time() -> None:
    acked = state(acked_at=SPRING + 10 * MIN, acked_by=3)
    after = life.excuse(acked, 7, SPRING + HOUR)
    assert isinstance(after, OccurrenceState)
    assert (after.acked_at, after.acked_by) == (SPRING + 10 * MIN, 7)


@pytest.mark.parametrize("status", sorted(life.FINISHED))
def test_a_finished_item_is_not_closed_again(status: Status) -> None:
    finished = state(status=status)
    assert life.excuse(finished, 7, SPRING) is Refused.FINISHED
    assert life.resolve(finished, 7, SPRING) is Refused.FINISHED
    assert life.reassign(finished, 7, 9, SPRING) is Refused.FINISHED
    assert life.close(finished, Status.DONE, 7, SPRING) is Refused.FINISHED


def test_a_leader_closes_only_as_a_taken_status() -> None:
    with pytest.raises(ValueError, match="a leader closes as one of"):
        life.close(state(), Status.OPEN, 7, SPRING)
    with pytest.raises(ValueError):
        life.close(state(), Status.CANCELLED, 7, SPRING)


def test_only_a_block_is_resolved() -> None:
    assert life.resolve(state(), 7, SPRING) is Refused.NOT_BLOCKED
    assert life.resolve(state(status=Status.LATE), 7, SPRING) is Refused.NOT_BLOCKED
    blocked = state(status=Status.BLOCKED, blocked_at=SPRING, next_step_at=SPRING)
    after = life.resolve(blocked, 7, SPRING + HOUR)
    assert after == replace(
        blocked, status=Status.RESOLVED, status_at=SPRING + HOUR, acked_by=7,
        acked_at=SPRING + HOUR, escalation_ended=True, next_step_at=None,
    )  # fmt: skip


def test_reassign_closes_and_names_the_new_person() -> None:
    after = life.reassign(state(status=Status.LATE, promised_at=SPRING), 7, 9, SPRING + HOUR)
    assert isinstance(after, OccurrenceState)
    assert (after.status, after.reassigned_to, after.acked_by) == (Status.REASSIGNED, 9, 7)
    assert (after.escalation_ended, after.next_step_at) == (True, None)


def test_reopen_opens_a_fresh_climb() -> None:
    # reassigned at 01:50 CET on the day summer time begins, due at 03:30 CEST (40 minutes on)
    now = SPRING - 40 * MIN
    assert local(now) == "2024-03-31 01:50 CET"
    opened = life.reopen(None, number=4, due_at=SPRING, policy=STANDARD, urgent=True, now=now)
    assert opened == OccurrenceState(
        status=Status.OPEN, status_at=now, number=4, nudge_at=now, due_at=SPRING,
        nudge_state=NudgeState.PENDING, policy=STANDARD, urgent=True, reminders_sent=0,
        levels_done=0, last_step_at=None, blocked_at=None, promised_at=None, acked_at=None,
        acked_by=None, reassigned_to=None, escalation_ended=False,
        next_step_at=SPRING - 30 * MIN,  # the first reminder
    )  # fmt: skip
    assert local(SPRING - 30 * MIN) == "2024-03-31 03:00 CEST"


def test_reopen_a_finished_row_forgets_its_old_life() -> None:
    old = state(
        status=Status.REASSIGNED, reassigned_to=5, acked_at=SPRING, acked_by=7, levels_done=2,
        last_step_at=SPRING, escalation_ended=True, next_step_at=None, number=2,
    )  # fmt: skip
    now = SPRING + HOUR
    opened = life.reopen(old, number=6, due_at=now + HOUR, policy=STANDARD, urgent=False, now=now)
    fresh = life.reopen(None, number=6, due_at=now + HOUR, policy=STANDARD, urgent=False, now=now)
    assert opened == fresh


def test_reopen_leaves_a_live_row_and_needs_no_policy() -> None:
    for status in life.LIVE:
        live = state(status=status)
        kept = life.reopen(live, number=1, due_at=SPRING, policy=None, urgent=False, now=SPRING)
        assert kept is Refused.LIVE
    opened = life.reopen(None, number=1, due_at=SPRING, policy=None, urgent=False, now=SPRING)
    assert isinstance(opened, OccurrenceState) and opened.next_step_at is None


def test_transitions_return_new_states() -> None:
    before = state()
    life.answer(before, Action.DONE, SPRING)
    life.excuse(before, 7, SPRING)
    assert before == state()
    with pytest.raises(AttributeError):
        before.status = Status.DONE  # type: ignore[misc]
