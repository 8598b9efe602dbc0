"""What a failed send means, and when to try again. Pure: the shell maps Telegram's errors to
a ``Failure`` and applies the ``Verdict``.

- 429: retry after the server's ``retry_after`` (and the sender pauses every send that long).
- 5xx, timeouts, network errors: retry with exponential backoff (2 s, 4 s, 8 s … capped at
  5 minutes), until ``max_attempts``; then the message is given up ("dead") and logged.
- 403 (never pressed Start, blocked the bot, kicked) and "chat not found": permanent. Retrying
  cannot help until the person acts, so the message is given up at once and the person is
  marked unreachable with the reason (their leader hears of it, once).
- Any other 400: the message itself is wrong; it is given up and logged, never retried.
- A message whose ``stale_at`` has passed (a nudge whose duty is already due) is not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class FailureKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"  # 5xx, timeout, connection
    NOT_STARTED = "not_started"  # 403: bot can't initiate conversation
    BLOCKED = "blocked"  # 403: bot was blocked by the user
    FORBIDDEN = "forbidden"  # 403: other (deactivated user, kicked)
    CHAT_NOT_FOUND = "chat_not_found"
    BAD_REQUEST = "bad_request"


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    detail: str
    retry_after: float = 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    retry_at: datetime | None  # None: give up
    unreachable: str | None = None  # reason to mark the person unreachable, if any


BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=5)
MAX_ATTEMPTS = 12
UNREACHABLE = {
    FailureKind.NOT_STARTED: "never started the bot",
    FailureKind.BLOCKED: "blocked the bot",
    FailureKind.FORBIDDEN: "cannot be messaged",
    FailureKind.CHAT_NOT_FOUND: "chat not found",
}


def judge(failure: Failure, attempts: int, now: datetime, stale_at: datetime | None) -> Verdict:
    """``attempts``: how many sends of this message have failed, this one included."""
    if failure.kind in UNREACHABLE:
        return Verdict(None, UNREACHABLE[failure.kind])
    if failure.kind is FailureKind.BAD_REQUEST:
        return Verdict(None)
    if failure.kind is FailureKind.RATE_LIMITED:
        retry_at = now + timedelta(seconds=max(failure.retry_after, 1.0))
    elif attempts >= MAX_ATTEMPTS:
        return Verdict(None)
    else:
        retry_at = now + min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)
    if stale_at is not None and retry_at >= stale_at:
        return Verdict(None)
    return Verdict(retry_at)


def classify_forbidden(description: str) -> FailureKind:
    text = description.lower()
    if "blocked" in text:
        return FailureKind.BLOCKED
    if "initiate" in text:
        return FailureKind.NOT_STARTED
    return FailureKind.FORBIDDEN
