"""models.figures.streak: the on-time streak of ``/me``, counted back from the latest finished
occurrence; open, excused and absent ones pass over, a late or not done one ends it."""

from datetime import UTC, datetime, timedelta

from models.figures import Facts, streak

DAY = timedelta(days=1)
FIRST = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # due at 08:00 UTC on each day
NOW = FIRST + 10 * DAY


def at(day: int, status: str, *, minutes: int = -30, ended: bool = True) -> Facts:
    """The occurrence due on day ``day``: ``status`` set ``minutes`` after its due time; its
    escalation ended, or a step still to come."""
    due = FIRST + day * DAY
    step = None if ended else NOW + DAY
    status_at = due + timedelta(minutes=minutes)
    return Facts(status, due, status_at, escalation_ended=ended, next_step_at=step)


def test_nothing_counts_as_no_streak() -> None:
    assert streak([], NOW) == 0


def test_on_time_in_a_row_back_to_the_first_late_one() -> None:
    history = [
        at(0, "done"),
        at(1, "done", minutes=5),  # late: the streak starts after it
        at(2, "done"),
        at(3, "resolved", minutes=0),  # a resolved block, at the due minute: on time
        at(4, "done"),
    ]
    assert streak(history, NOW) == 3
    assert streak(list(reversed(history)), NOW) == 3  # ordered by due time, not as given


def test_open_excused_and_absent_pass_over_a_not_done_ends_it() -> None:
    history = [
        at(0, "done"),
        at(1, "open", ended=True),  # not done: the escalation is over
        at(2, "done"),
        at(3, "excused"),
        at(4, "absent"),
        at(5, "done"),
        at(6, "cancelled"),
        at(9, "open", ended=False),  # still open: not finished yet
    ]
    assert streak(history, NOW) == 2
    assert streak(history[:1], NOW) == 1


def test_a_kept_promise_is_on_time_a_broken_one_ends_the_streak() -> None:
    due = FIRST + 5 * DAY
    kept = Facts("done", due, due + timedelta(hours=2), promised_at=due + timedelta(hours=3))
    broken = Facts("done", due + DAY, due + DAY + timedelta(hours=4),
                   promised_at=due + DAY + timedelta(hours=3))  # fmt: skip
    assert streak([at(0, "done"), kept], NOW) == 2
    assert streak([at(0, "done"), kept, broken], NOW) == 0
