"""plan_sends / due_sends: one message per recipient per window."""

from datetime import UTC, datetime, timedelta

import pytest

from models.grouping import PendingNotice, Send, SentNotice, due_sends, plan_sends, told_since

T0 = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
WINDOW = 5 * MIN


def notice(recipient: int, item: int, minute: int, urgent: bool = False) -> PendingNotice:
    return PendingNotice(recipient, item, T0 + minute * MIN, urgent)


def at(minute: float) -> datetime:
    return T0 + minute * MIN


@pytest.mark.parametrize(
    ("pending", "expected"),
    [
        # one notice: sent a window after it came due
        ([notice(1, 10, 0)], [Send(1, at(5), (10,))]),
        # notices due up to the send time join the group, later ones open the next group
        (
            [notice(1, 10, 0), notice(1, 11, 3), notice(1, 12, 5), notice(1, 13, 6)],
            [Send(1, at(5), (10, 11, 12)), Send(1, at(11), (13,))],
        ),
        # an urgent notice sends the group at once, with what is pending
        (
            [notice(1, 10, 0), notice(1, 11, 2, urgent=True), notice(1, 12, 3)],
            [Send(1, at(2), (10, 11)), Send(1, at(8), (12,))],
        ),
        # an urgent notice on its own goes at its time
        ([notice(1, 10, 0, urgent=True)], [Send(1, at(0), (10,))]),
        # an urgent notice after the send time does not pull the group forward
        (
            [notice(1, 10, 0), notice(1, 11, 7, urgent=True)],
            [Send(1, at(5), (10,)), Send(1, at(7), (11,))],
        ),
        # recipients are grouped separately
        (
            [notice(1, 10, 0), notice(2, 10, 1), notice(1, 11, 2)],
            [Send(1, at(5), (10, 11)), Send(2, at(6), (10,))],
        ),
        # the same item pending twice for one recipient is listed once
        ([notice(1, 10, 0), notice(1, 10, 4)], [Send(1, at(5), (10,))]),
        # order of the input does not matter
        (
            [notice(1, 12, 3), notice(1, 10, 0), notice(1, 11, 3)],
            [Send(1, at(5), (10, 11, 12))],
        ),
    ],
)
def test_plan(pending, expected):
    assert plan_sends(pending, WINDOW, T0) == expected


def test_a_backlog_goes_out_as_one_message():
    pending = [notice(1, 10, 0), notice(1, 11, 20), notice(1, 12, 40), notice(1, 13, 70)]
    now = at(60)
    assert plan_sends(pending, WINDOW, now) == [
        Send(1, at(5), (10, 11, 12)),
        Send(1, at(75), (13,)),
    ]
    assert due_sends(pending, WINDOW, now) == [Send(1, at(5), (10, 11, 12))]


def test_window_zero_means_no_grouping():
    pending = [notice(1, 10, 0), notice(1, 11, 0), notice(1, 12, 3)]
    assert plan_sends(pending, timedelta(0), at(60)) == [
        Send(1, at(0), (10,)),
        Send(1, at(0), (11,)),
        Send(1, at(3), (12,)),
    ]


def test_due_sends_and_is_due():
    pending = [notice(1, 10, 0), notice(2, 20, 2)]
    assert due_sends(pending, WINDOW, at(4)) == []
    assert due_sends(pending, WINDOW, at(5)) == [Send(1, at(5), (10,))]
    assert [s.recipient_id for s in due_sends(pending, WINDOW, at(7))] == [1, 2]
    assert Send(1, at(5), (10,)).is_due(at(5))
    assert not Send(1, at(5), (10,)).is_due(at(4))


def test_repeated_calls_plan_the_same_sends():
    pending = [notice(1, 10, 0), notice(1, 11, 2, urgent=True), notice(2, 20, 1)]
    first = plan_sends(pending, WINDOW, at(1))
    assert plan_sends(list(reversed(pending)), WINDOW, at(1)) == first
    assert plan_sends(pending, WINDOW, at(1)) == first


def test_sending_and_removing_leaves_the_rest_planned_as_before():
    pending = [notice(1, 10, 0), notice(1, 11, 3), notice(1, 12, 9)]
    sent = due_sends(pending, WINDOW, at(5))
    assert sent == [Send(1, at(5), (10, 11))]
    rest = [n for n in pending if n.item_id not in sent[0].item_ids]
    assert plan_sends(rest, WINDOW, at(5)) == [Send(1, at(14), (12,))]


def test_negative_window():
    with pytest.raises(ValueError, match="group window: expected zero or more"):
        plan_sends([], -MIN, T0)


def about(
    recipient: int, notice_id: int, minute: float, subject: int, **flags: bool
) -> PendingNotice:
    return PendingNotice(recipient, notice_id, T0 + minute * MIN, subject=subject, **flags)


def test_item9_a_block_sends_its_group_at_once():
    block = about(1, 11, 2, subject=100, block=True)
    assert plan_sends([block], WINDOW, at(2)) == [Send(1, at(2), (11,))]
    # with what is pending for that recipient; later notices wait their own window
    pending = [notice(1, 10, 0), block, notice(1, 12, 3)]
    assert plan_sends(pending, WINDOW, at(2)) == [Send(1, at(2), (10, 11)), Send(1, at(8), (12,))]


def test_item21_one_message_per_item_and_window_with_its_latest_state():
    # Told about item 100 at minute 0; blocked again at 1, 2 and 3: held until minute 5, once.
    told = {(1, 100): at(0)}
    pending = [about(1, n, n - 10, subject=100, block=True) for n in (11, 12, 13)]
    assert plan_sends(pending, WINDOW, at(3), told) == [Send(1, at(5), (11, 12, 13))]
    assert due_sends(pending, WINDOW, at(4), told) == []
    # another item is not held by it; another recipient neither
    other = [about(1, 20, 1, subject=200, block=True), about(2, 21, 1, subject=100, block=True)]
    assert plan_sends(other, WINDOW, at(1), told) == [Send(1, at(1), (20,)), Send(2, at(1), (21,))]
    # told long enough ago: not held
    assert plan_sends(pending[:1], WINDOW, at(1), {(1, 100): at(-10)}) == [Send(1, at(1), (11,))]


def test_item21_repeats_within_one_plan_are_spaced_a_window_apart():
    pending = [about(1, n, m, subject=100, block=True) for n, m in ((11, 0), (12, 1), (13, 6))]
    assert plan_sends(pending, WINDOW, at(0)) == [
        Send(1, at(0), (11,)),
        Send(1, at(5), (12,)),
        Send(1, at(10), (13,)),
    ]


def test_item21_window_zero_still_tells_one_item_at_most_once_a_minute():
    told = {(1, 100): at(0)}
    pending = [about(1, n, (n - 10) / 6, subject=100, block=True) for n in (11, 12, 13)]
    assert plan_sends(pending, timedelta(0), at(0.5), told) == [Send(1, at(1), (11, 12, 13))]
    # different items at the same instant still go on their own
    two = [about(1, 20, 0, subject=200), about(1, 21, 0, subject=201)]
    assert plan_sends(two, timedelta(0), at(0)) == [Send(1, at(0), (20,)), Send(1, at(0), (21,))]


def test_item8_a_note_goes_to_the_leaders_already_sent_the_block():
    blocked = at(10)
    sent = [
        SentNotice(5, "escalate", queued=True, created_at=at(0)),  # silence, before the block
        SentNotice(6, "block", queued=True, created_at=at(10)),  # told of the block
        SentNotice(7, "block", queued=False, created_at=at(10)),  # waiting: will see the note
        SentNotice(8, "escalate", queued=True, created_at=at(40)),  # a later level of it
        SentNotice(9, "remind", queued=True, created_at=at(12)),  # the person's reminder
        SentNotice(6, "block", queued=True, created_at=at(12)),  # told twice: one note
    ]
    assert told_since(sent, blocked) == [6, 8]
