"""What a failed send means (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.delivery import (
    MAX_ATTEMPTS,
    Failure,
    FailureKind,
    classify_forbidden,
    judge,
)

NOW = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_rate_limited_retries_after_the_servers_wait() -> None:
    verdict = judge(Failure(FailureKind.RATE_LIMITED, "429", 7), 1, NOW, None)
    assert verdict.retry_at == NOW + timedelta(seconds=7)


@pytest.mark.parametrize(("attempts", "wait"), [(1, 2), (2, 4), (3, 8), (9, 300)])
def test_transient_errors_back_off_exponentially(attempts: int, wait: int) -> None:
    verdict = judge(Failure(FailureKind.TRANSIENT, "502"), attempts, NOW, None)
    assert verdict.retry_at == NOW + timedelta(seconds=wait)


def test_transient_errors_give_up_eventually() -> None:
    assert judge(Failure(FailureKind.TRANSIENT, "500"), MAX_ATTEMPTS, NOW, None).retry_at is None


def test_a_stale_message_is_not_retried() -> None:
    stale = NOW + timedelta(seconds=3)
    assert judge(Failure(FailureKind.TRANSIENT, "500"), 2, NOW, stale).retry_at is None
    assert judge(Failure(FailureKind.TRANSIENT, "500"), 1, NOW, stale).retry_at is not None


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
    assert verdict.retry_at is None and verdict.unreachable == reason


def test_bad_request_is_never_retried() -> None:
    verdict = judge(Failure(FailureKind.BAD_REQUEST, "can't parse entities"), 1, NOW, None)
    assert verdict.retry_at is None and verdict.unreachable is None
