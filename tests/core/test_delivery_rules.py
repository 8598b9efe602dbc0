"""What a failed send means (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.delivery import (
    DEAD,
    DEAD_REPORT,
    PENDING,
    SKIPPED,
    Failure,
    FailureKind,
    Verdict,
    backoff,
    classify_forbidden,
    judge,
    worth_reporting,
)

NOW = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_rate_limited_retries_after_the_servers_wait() -> None:
    verdict = judge(Failure(FailureKind.RATE_LIMITED, "429", 7), 1, NOW, None)
    assert verdict.retry_at == NOW + timedelta(seconds=7)


@pytest.mark.parametrize(("attempts", "wait"), [(1, 2), (2, 4), (3, 8), (9, 300)])
def test_transient_errors_back_off_exponentially(attempts: int, wait: int) -> None:
    verdict = judge(Failure(FailureKind.TRANSIENT, "502"), attempts, NOW, None)
    assert verdict.retry_at == NOW + timedelta(seconds=wait) and verdict.state == PENDING


def test_item2_transient_errors_never_give_up_an_escalation() -> None:
    """Half an hour of 502s, and far longer: the 13th, the 100th and the 10,000th failure of
    a message without a stale time (an escalation) are retried at the 5-minute cap."""
    failure = Failure(FailureKind.TRANSIENT, "502: Bad Gateway")
    for attempts in (12, 13, 100, 10_000):
        verdict = judge(failure, attempts, NOW, None)
        assert verdict == Verdict(PENDING, datetime(2026, 10, 25, 0, 35, tzinfo=UTC))


def test_item2_outage_retry_times_add_up() -> None:
    """The waits after each failure of one message: 2, 4, 8 … 256 s, then 5 minutes each. The
    12th failure comes 23 min 30 s after the first (where the old limit gave up for good)."""
    waits = [backoff(n).total_seconds() for n in range(1, 13)]
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]
    assert sum(waits[:11]) == 23 * 60 + 30


def test_item2_a_nudge_whose_retry_would_come_after_its_due_time_is_skipped() -> None:
    due = datetime(2026, 10, 25, 0, 30, 8, tzinfo=UTC)  # 8 s after NOW
    failure = Failure(FailureKind.TRANSIENT, "timed out")
    assert judge(failure, 2, NOW, due) == Verdict(
        PENDING, datetime(2026, 10, 25, 0, 30, 4, tzinfo=UTC)
    )
    assert judge(failure, 3, NOW, due) == Verdict(SKIPPED)  # 00:30:08 is not before the due
    assert judge(failure, 4, NOW, due) == Verdict(SKIPPED)
    rate_limited = Failure(FailureKind.RATE_LIMITED, "429", 30)
    assert judge(rate_limited, 1, NOW, due) == Verdict(SKIPPED)


def test_item2_permanent_failures_are_dead_and_the_dead_report_is_not_reported() -> None:
    assert judge(Failure(FailureKind.BAD_REQUEST, "message is too long"), 1, NOW, None) == (
        Verdict(DEAD)
    )
    assert worth_reporting("escalation") and worth_reporting("nudge")
    assert not worth_reporting(DEAD_REPORT)


@pytest.mark.parametrize(
    ("description", "kind", "reason"),
    [
        ("Forbidden: bot was blocked by the user", FailureKind.BLOCKED, "blocked the bot"),
        (
            "Forbidden: bot can't initiate conversation with a user",
            FailureKind.NOT_STARTED,
            "never started the bot",
        ),
        ("Forbidden: user is deactivated", FailureKind.FORBIDDEN, "cannot be messaged"),
    ],
)
def test_403_is_permanent_and_marks_the_person(
    description: str, kind: FailureKind, reason: str
) -> None:
    assert classify_forbidden(description) is kind
    verdict = judge(Failure(kind, description), 1, NOW, None)
    assert verdict == Verdict(DEAD, None, reason)


def test_bad_request_is_never_retried() -> None:
    verdict = judge(Failure(FailureKind.BAD_REQUEST, "can't parse entities"), 1, NOW, None)
    assert verdict == Verdict(DEAD)
