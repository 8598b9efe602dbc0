"""next_step / apply_step: reminders, levels, blocks, promises, acks, repeats, restarts.

One module over 400 lines: 34 small cases of one function pair, read as a table of the
engine's rules; splitting them by theme would scatter the shared fixtures."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.escalation import (
    EscalationState,
    Step,
    apply_step,
    next_step,
    on_acked,
    on_blocked,
    on_later,
    resolve_target,
)
from models.policies import Policy, Target, parse_policies
from tests.core.sample_org import GONE, PM, QM, TL, W1, WH, sample_tree
from tests.core.test_policies import EXAMPLE

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# 09:00 local in Berlin on the day summer time ends (CET again, UTC+1): 08:00 UTC
DUE = datetime(2026, 10, 25, 9, 0, tzinfo=BERLIN).astimezone(UTC)
STANDARD = parse_policies(EXAMPLE).policy()


def policy(**changes: object) -> Policy:
    return replace(STANDARD, **changes)  # type: ignore[arg-type]


def run(state, pol, ticks):
    """The runner: at each tick, execute due steps one by one. Logs (kind, index, when, reason)
    with ``when`` relative to DUE."""
    log = []
    for now in ticks:
        while (step := next_step(state, pol, now)) is not None and step.at <= now:
            log.append((step.kind, step.index, now - DUE, step.reason))
            state = apply_step(state, step, now)
    return state, log


def ticks(start: timedelta, end: timedelta, every: timedelta = MIN) -> list[datetime]:
    out = []
    at = DUE + start
    while at <= DUE + end:
        out.append(at)
        at += every
    return out


ON_TIME = [
    ("remind", 0, -30 * MIN, "silence"),
    ("remind", 1, timedelta(0), "silence"),
    ("escalate", 0, 30 * MIN, "silence"),
    ("escalate", 1, 2 * HOUR, "silence"),
    ("escalate", 2, 4 * HOUR, "silence"),
    ("escalate", 3, 6 * HOUR, "silence"),
    ("escalate", 4, 8 * HOUR, "silence"),  # repeats of the last level, every 2h
    ("escalate", 5, 10 * HOUR, "silence"),
    ("escalate", 6, 12 * HOUR, "silence"),
    ("end", 7, 14 * HOUR, "silence"),
]


def test_silence_on_time():
    state, log = run(EscalationState(DUE), STANDARD, ticks(-2 * HOUR, 30 * HOUR))
    assert log == ON_TIME
    assert state.ended and state.reminders_sent == 2 and state.levels_done == 7
    assert next_step(state, STANDARD, DUE + 40 * HOUR) is None


def test_the_first_step_and_its_time():
    assert next_step(EscalationState(DUE), STANDARD, DUE - 3 * HOUR) == Step(
        "remind", DUE - 30 * MIN, 0, None, "silence"
    )
    assert datetime(2026, 10, 25, 8, 0, tzinfo=UTC) == DUE


@pytest.mark.parametrize(
    ("down_from", "down_until", "expected"),
    [
        # down across both reminders and level 1: reminders are skipped, levels come in a row
        (
            -45 * MIN,
            3 * HOUR,
            [
                ("escalate", 0, 3 * HOUR, "silence"),
                ("escalate", 1, 3 * HOUR, "silence"),
                *ON_TIME[4:],
            ],
        ),
        # down across the first reminder only: the latest reminder goes, the earlier is skipped
        (-45 * MIN, 10 * MIN, [("remind", 1, 10 * MIN, "silence"), *ON_TIME[2:]]),
        # down across level 4's time: it goes late, the repeats are spaced from then
        (
            5 * HOUR,
            13 * HOUR,
            [
                *ON_TIME[:5],
                ("escalate", 3, 13 * HOUR, "silence"),
                ("escalate", 4, 15 * HOUR, "silence"),
                ("escalate", 5, 17 * HOUR, "silence"),
                ("escalate", 6, 19 * HOUR, "silence"),
                ("end", 7, 21 * HOUR, "silence"),
            ],
        ),
        # down for more than a day: every level in a row, then the repeats at their pace
        (
            -3 * HOUR,
            30 * HOUR,
            [
                ("escalate", 0, 30 * HOUR, "silence"),
                ("escalate", 1, 30 * HOUR, "silence"),
                ("escalate", 2, 30 * HOUR, "silence"),
                ("escalate", 3, 30 * HOUR, "silence"),
                ("escalate", 4, 32 * HOUR, "silence"),
                ("escalate", 5, 34 * HOUR, "silence"),
                ("escalate", 6, 36 * HOUR, "silence"),
                ("end", 7, 38 * HOUR, "silence"),
            ],
        ),
    ],
)
def test_restart_after_downtime(down_from, down_until, expected):
    up = [t for t in ticks(-2 * HOUR, 48 * HOUR) if not DUE + down_from < t < DUE + down_until]
    _, log = run(EscalationState(DUE), STANDARD, up)
    assert log == expected


@pytest.mark.parametrize("every", [MIN, 7 * MIN, 25 * MIN, 3 * HOUR, 11 * HOUR])
def test_any_tick_rate_executes_each_level_once_in_order(every):
    _, log = run(EscalationState(DUE), STANDARD, ticks(-2 * HOUR, 60 * HOUR, every))
    climb = [(kind, index) for kind, index, _, _ in log if kind != "remind"]
    assert climb == [(kind, index) for kind, index, _, _ in ON_TIME[2:]]
    reminders = [index for kind, index, _, _ in log if kind == "remind"]
    assert reminders == sorted(set(reminders))


def test_asking_again_changes_nothing():
    state, _ = run(EscalationState(DUE), STANDARD, ticks(-2 * HOUR, 3 * HOUR))
    now = DUE + 3 * HOUR
    assert next_step(state, STANDARD, now) == next_step(state, STANDARD, now)
    again, log = run(state, STANDARD, [now, now])
    assert (again, log) == (state, [])


def test_a_step_is_applied_once():
    state = EscalationState(DUE)
    step = next_step(state, STANDARD, DUE + HOUR)
    assert step == Step("escalate", DUE + 30 * MIN, 0, Target("next"), "silence")
    after = apply_step(state, step, DUE + HOUR)
    with pytest.raises(ValueError, match="expected level step 1, got 0"):
        apply_step(after, step, DUE + HOUR)


def test_a_reminder_is_applied_once():
    state = EscalationState(DUE)
    step = next_step(state, STANDARD, DUE)
    assert step is not None and step.index == 1
    after = apply_step(state, step, DUE)
    assert after.reminders_sent == 2
    with pytest.raises(ValueError, match="reminder 1 was sent or skipped already"):
        apply_step(after, step, DUE)


def test_a_step_is_not_applied_early():
    step = next_step(EscalationState(DUE), STANDARD, DUE - HOUR)
    assert step is not None
    with pytest.raises(ValueError, match="not due until 2026-10-25T07:30:00"):
        apply_step(EscalationState(DUE), step, DUE - HOUR)


def test_nothing_is_applied_to_a_finished_item():
    step = Step("escalate", DUE, 0, Target("next"), "silence")
    with pytest.raises(ValueError, match="nothing more happens"):
        apply_step(EscalationState(DUE, status="done"), step, DUE)


@pytest.mark.parametrize("status", ["done", "excused", "absent", "cancelled"])
def test_finished_items_have_no_next_step(status):
    assert next_step(EscalationState(DUE, status=status), STANDARD, DUE) is None


def test_an_ended_item_has_no_next_step():
    state = EscalationState(DUE, levels_done=7, last_step_at=DUE + 12 * HOUR, ended=True)
    assert next_step(state, STANDARD, DUE + 20 * HOUR) is None


# --- repeats and the end ---------------------------------------------------------------------


@pytest.mark.parametrize("repeat_max", [1, 2, 3, 5])
def test_repeat_limit(repeat_max):
    pol = policy(reminders=(), repeat_max=repeat_max)
    _, log = run(EscalationState(DUE), pol, ticks(timedelta(0), 40 * HOUR))
    repeats = [entry for entry in log if entry[0] == "escalate" and entry[1] >= 4]
    assert [when for _, _, when, _ in repeats] == [
        (6 + 2 * r) * HOUR for r in range(1, repeat_max + 1)
    ]
    assert log[-1] == ("end", 4 + repeat_max, (8 + 2 * repeat_max) * HOUR, "silence")


def test_without_repeats_the_end_comes_right_after_the_last_level():
    pol = policy(reminders=(), repeat_every=None, repeat_max=0)
    _, log = run(EscalationState(DUE), pol, ticks(timedelta(0), 10 * HOUR))
    assert log[-2:] == [("escalate", 3, 6 * HOUR, "silence"), ("end", 4, 6 * HOUR, "silence")]


def test_repeats_notify_the_last_level_again():
    state = EscalationState(DUE, levels_done=5, last_step_at=DUE + 8 * HOUR)
    step = next_step(state, STANDARD, DUE + 9 * HOUR)
    assert step == Step(
        "escalate", DUE + 10 * HOUR, 5, Target("people", keys=("m.keller", "h.braun")), "silence"
    )


# --- blocks ----------------------------------------------------------------------------------


def test_a_block_notifies_level_one_at_once_then_climbs_from_the_block():
    blocked = on_blocked(EscalationState(DUE), DUE + 10 * MIN)
    assert next_step(blocked, STANDARD, DUE + 10 * MIN) == Step(
        "escalate", DUE + 10 * MIN, 0, Target("next"), "block"
    )
    _, log = run(blocked, STANDARD, ticks(10 * MIN, 30 * HOUR))
    assert log == [
        ("escalate", 0, 10 * MIN, "block"),
        ("escalate", 1, 2 * HOUR + 10 * MIN, "block"),  # blocked_at + 2h
        ("escalate", 2, 4 * HOUR + 10 * MIN, "block"),
        ("escalate", 3, 6 * HOUR + 10 * MIN, "block"),
        ("escalate", 4, 8 * HOUR + 10 * MIN, "block"),
        ("escalate", 5, 10 * HOUR + 10 * MIN, "block"),
        ("escalate", 6, 12 * HOUR + 10 * MIN, "block"),
        ("end", 7, 14 * HOUR + 10 * MIN, "block"),
    ]


def test_a_block_before_the_due_time_sends_no_reminders():
    blocked = on_blocked(EscalationState(DUE), DUE - 40 * MIN)
    _, log = run(blocked, STANDARD, ticks(-40 * MIN, 3 * HOUR))
    assert log == [
        ("escalate", 0, -40 * MIN, "block"),
        ("escalate", 1, 80 * MIN, "block"),
    ]


def test_a_block_after_escalation_restarts_the_climb():
    state, _ = run(EscalationState(DUE), STANDARD, ticks(-HOUR, 2 * HOUR + 30 * MIN))
    assert state.levels_done == 2
    acked = on_acked(state, WH, DUE + 2 * HOUR + 10 * MIN)
    blocked = on_blocked(acked, DUE + 2 * HOUR + 30 * MIN)
    assert (blocked.levels_done, blocked.acked_at, blocked.status) == (0, None, "blocked")
    assert next_step(blocked, STANDARD, DUE + 2 * HOUR + 30 * MIN) == Step(
        "escalate", DUE + 2 * HOUR + 30 * MIN, 0, Target("next"), "block"
    )


def test_a_block_reported_during_downtime_goes_out_on_restart():
    blocked = on_blocked(EscalationState(DUE), DUE + 10 * MIN)
    _, log = run(blocked, STANDARD, [DUE + 3 * HOUR])
    assert log == [("escalate", 0, 3 * HOUR, "block"), ("escalate", 1, 3 * HOUR, "block")]


# --- late: a promised time -------------------------------------------------------------------


def test_a_promise_made_before_the_due_time_holds_reminders_and_the_first_level():
    late = on_later(EscalationState(DUE), DUE + 90 * MIN)
    assert next_step(late, STANDARD, DUE - HOUR) == Step(
        "escalate", DUE + 90 * MIN, 0, Target("next"), "missed_commitment"
    )
    _, log = run(late, STANDARD, ticks(-HOUR, 7 * HOUR))
    assert log == [
        ("escalate", 0, 90 * MIN, "missed_commitment"),
        ("escalate", 1, 3 * HOUR, "missed_commitment"),  # the policy's gap 30m -> 2h
        ("escalate", 2, 5 * HOUR, "missed_commitment"),  # gap 2h -> 4h
        ("escalate", 3, 7 * HOUR, "missed_commitment"),  # gap 4h -> 6h
    ]


def test_a_promise_never_brings_escalation_forward():
    late = on_later(EscalationState(DUE), DUE + 10 * MIN)
    step = next_step(late, STANDARD, DUE)
    assert step is not None and step.at == DUE + 30 * MIN


def test_a_missed_promise_climbs_from_where_it_was():
    state, _ = run(EscalationState(DUE), STANDARD, ticks(-HOUR, 45 * MIN))
    assert state.levels_done == 1
    late = on_later(state, DUE + 5 * HOUR)
    assert next_step(late, STANDARD, DUE + 4 * HOUR + 59 * MIN) == Step(
        "escalate", DUE + 5 * HOUR, 1, Target("next", link=1), "missed_commitment"
    )
    _, log = run(late, STANDARD, ticks(45 * MIN, 30 * HOUR))
    assert log == [
        ("escalate", 1, 5 * HOUR, "missed_commitment"),
        ("escalate", 2, 7 * HOUR, "missed_commitment"),  # gap 2h -> 4h
        ("escalate", 3, 9 * HOUR, "missed_commitment"),  # gap 4h -> 6h
        ("escalate", 4, 11 * HOUR, "missed_commitment"),
        ("escalate", 5, 13 * HOUR, "missed_commitment"),
        ("escalate", 6, 15 * HOUR, "missed_commitment"),
        ("end", 7, 17 * HOUR, "missed_commitment"),
    ]


# --- acks ------------------------------------------------------------------------------------


def test_an_ack_holds_the_climb_then_it_climbs_again():
    state, _ = run(EscalationState(DUE), STANDARD, ticks(-HOUR, 35 * MIN))
    acked = on_acked(state, TL, DUE + 35 * MIN)
    assert next_step(acked, STANDARD, DUE + 2 * HOUR) == Step(
        "escalate", DUE + 2 * HOUR + 35 * MIN, 1, Target("next", link=1), "ack_timeout"
    )
    after, log = run(acked, STANDARD, ticks(35 * MIN, 4 * HOUR))
    assert log == [
        ("escalate", 1, 2 * HOUR + 35 * MIN, "ack_timeout"),
        ("escalate", 2, 4 * HOUR, "silence"),
    ]
    assert after.acked_at is None and after.acked_by is None


def test_an_ack_that_expires_before_the_next_level_changes_nothing():
    pol = policy(ack_timeout=30 * MIN)
    state, _ = run(EscalationState(DUE), pol, ticks(-HOUR, 31 * MIN))
    acked = on_acked(state, TL, DUE + 31 * MIN)
    _, log = run(acked, pol, ticks(31 * MIN, 2 * HOUR))
    assert log == [("escalate", 1, 2 * HOUR, "silence")]


def test_an_ack_stops_reminders_and_holds_the_first_level():
    acked = on_acked(EscalationState(DUE), TL, DUE - HOUR)
    _, log = run(acked, STANDARD, ticks(-HOUR, 2 * HOUR))
    assert log == [("escalate", 0, HOUR, "ack_timeout"), ("escalate", 1, 2 * HOUR, "silence")]


def test_an_ack_holds_the_end():
    pol = policy(repeat_every=None, repeat_max=0)
    state = EscalationState(DUE, levels_done=4, last_step_at=DUE + 6 * HOUR)
    acked = on_acked(state, PM, DUE + 6 * HOUR + 5 * MIN)
    assert next_step(acked, pol, DUE + 6 * HOUR + 5 * MIN) == Step(
        "end", DUE + 8 * HOUR + 5 * MIN, 4, None, "ack_timeout"
    )


def test_an_ack_on_a_blocked_item():
    blocked = on_blocked(EscalationState(DUE), DUE)
    state, _ = run(blocked, STANDARD, [DUE])
    acked = on_acked(state, TL, DUE + 10 * MIN)
    _, log = run(acked, STANDARD, ticks(10 * MIN, 3 * HOUR))
    assert log == [("escalate", 1, 2 * HOUR + 10 * MIN, "ack_timeout")]


# --- clock changes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_due", "second_level_utc"),
    [
        # Berlin, spring forward: 01:30 CET due; 2h later is 04:30 CEST (02:30 UTC)
        (datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 2, 30, tzinfo=UTC)),
        # Berlin, fall back: 01:30 CEST due; 2h later is 02:30 CET (01:30 UTC)
        (datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        # New York, spring forward: 01:30 EST due; 2h later is 04:30 EDT (08:30 UTC)
        (datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), datetime(2026, 3, 8, 8, 30, tzinfo=UTC)),
        # New York, fall back: 00:30 EDT due; 2h later is 01:30 EST (06:30 UTC)
        (datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_after_counts_elapsed_time_across_clock_changes(local_due, second_level_utc):
    due = local_due.astimezone(UTC)
    state = EscalationState(due, levels_done=1, last_step_at=due + 30 * MIN)
    step = next_step(state, STANDARD, due + 30 * MIN)
    assert step is not None and step.at == second_level_utc


# --- whom to notify --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "person", "absent", "expected"),
    [
        (Target("next", link=0), W1, set(), [TL]),
        (Target("next", link=1), W1, set(), [WH]),
        (Target("next", link=2), W1, set(), [PM]),
        (Target("next", link=5), W1, set(), [PM]),  # past the top: the top again
        (Target("next", link=0), PM, set(), []),  # nobody above the plant manager
        (Target("post", post="plant manager"), W1, set(), [PM]),
        (Target("post", post="plant manager"), W1, {PM}, []),
        (Target("post", post="Safety Officer"), W1, set(), [8]),
        (Target("people", keys=("m.keller", "h.braun")), W1, set(), [PM, QM]),
        (Target("people", keys=("m.keller", "h.braun")), W1, {QM}, [PM]),
        (Target("people", keys=("m.keller", "h.braun")), PM, set(), [QM]),  # not themselves
        (Target("people", keys=("nobody", "x.gone", "h.braun", "h.braun")), W1, set(), [QM]),
    ],
)
def test_resolve_target(target, person, absent, expected):
    tree = sample_tree()
    chain = tree.chain(person, frozenset(absent))
    assert resolve_target(target, chain, tree, person, frozenset(absent)) == expected


def test_who_hears_of_a_silent_item():
    tree = sample_tree()
    chain = tree.chain(W1)
    state = EscalationState(DUE)
    heard = []
    for now in ticks(-HOUR, 20 * HOUR, 15 * MIN):
        while (step := next_step(state, STANDARD, now)) and step.at <= now:
            if step.target is not None:
                heard.append(resolve_target(step.target, chain, tree, W1))
            state = apply_step(state, step, now)
    assert heard == [[TL], [WH], [PM], [PM, QM], [PM, QM], [PM, QM], [PM, QM]]
    assert all(GONE not in people for people in heard)


# --- state checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "waiting"}, "status: expected one of open, blocked"),
        ({"due_at": datetime(2026, 10, 25, 8)}, "due_at: expected an aware datetime"),
        ({"status": "blocked"}, 'blocked_at: expected an instant while status is "blocked"'),
        ({"status": "late"}, 'new_due_at: expected an instant while status is "late"'),
        ({"levels_done": 1}, "last_step_at: expected an instant"),
        ({"reminders_sent": -1}, "expected zero or more"),
        ({"acked_at": DUE}, "acked_at and acked_by: expected both or neither"),
    ],
)
def test_inconsistent_states_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        EscalationState(**{"due_at": DUE, **changes})


# --- reminders and the nudge (issue 10, item 20) -------------------------------------------


def test_item20_no_reminder_before_the_nudge():
    # Nudged at 08:50 for a 09:00 duty: the "-30m" reminder (08:30) would come before the
    # nudge and is never sent; the "0m" one comes at 09:00, after it.
    state = EscalationState(DUE, nudge_at=DUE - 10 * MIN, nudged=False)
    first = next_step(state, STANDARD, DUE - 2 * HOUR)
    assert first == Step("remind", DUE, 1, None, "silence")
    assert next_step(state, STANDARD, DUE - 30 * MIN) == first  # nothing at 08:30
    nudged = replace(state, nudged=True)
    assert next_step(nudged, STANDARD, DUE - 10 * MIN) == first
    _, log = run(nudged, STANDARD, ticks(-HOUR, 31 * MIN))
    assert log == [("remind", 1, timedelta(0), "silence"), ("escalate", 0, 30 * MIN, "silence")]


def test_item20_a_reminder_exactly_at_the_nudge_is_not_sent():
    state = EscalationState(DUE, nudge_at=DUE - 30 * MIN, nudged=True)
    _, log = run(state, STANDARD, ticks(-HOUR, 0 * MIN))
    assert log == [("remind", 1, timedelta(0), "silence")]
    after = EscalationState(DUE, nudge_at=DUE - 30 * MIN - timedelta(seconds=1), nudged=True)
    _, log = run(after, STANDARD, ticks(-HOUR, 0 * MIN))
    assert log == [("remind", 0, -30 * MIN, "silence"), ("remind", 1, timedelta(0), "silence")]


def test_item20_a_skipped_duty_gets_no_reminder_after_a_downtime():
    # Down from 08:00 to 09:10: the 08:30 nudge was skipped (the duty was due at 09:00); the
    # 09:00 reminder, due by then, is not sent; the climb goes on at 09:30.
    state = EscalationState(DUE, nudge_at=DUE - 30 * MIN, nudged=False)
    back = DUE + 10 * MIN
    assert next_step(state, STANDARD, back) == Step(
        "escalate", DUE + 30 * MIN, 0, Target("next"), "silence"
    )
    _, log = run(state, STANDARD, ticks(10 * MIN, 31 * MIN))
    assert log == [("escalate", 0, 30 * MIN, "silence")]


def test_item20_a_nudge_not_yet_out_holds_no_reminder_back_for_ever():
    # The reminder at 09:00 finds the nudge not gone out: skipped, the climb comes next; once
    # nudged, the latest due reminder goes.
    state = EscalationState(DUE, nudge_at=DUE - HOUR, nudged=False)
    step = next_step(state, STANDARD, DUE)
    assert step is not None and step.kind == "escalate"
    assert next_step(replace(state, nudged=True), STANDARD, DUE) == Step(
        "remind", DUE, 1, None, "silence"
    )
