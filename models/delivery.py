"""What a failed send means, and when to try again. Pure: the shell maps Telegram's errors to
a ``Failure`` and applies the ``Verdict``.

- 429: retry after the server's ``retry_after`` (and the sender pauses every send that long).
- 5xx, timeouts, network errors: retry with exponential backoff (2 s, 4 s, 8 s … capped at
  5 minutes), with no limit on attempts: an outage of any length ends in delivery.
- A message with a ``stale_at`` (a nudge: its duty's due time) whose next try would come at or
  after that instant is not retried but ``skipped``: a nudge is never sent after its duty is
  due. A message without one (escalations, notices, edits) is retried until it goes through.
- 403 (never pressed Start, blocked the bot, kicked) and "chat not found": permanent. Retrying
  cannot help until the person acts, so the message is given up (``dead``) at once and the
  person is marked unreachable with the reason (their leader hears of it, once).
- Any other 400: the message itself is wrong; it is given up (``dead``), never retried.
- Every ``dead`` message is reported to the admins once (except a report to them that died:
  that would only loop) and listed by ``/dead`` and ``execbot outbox --dead``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.status import OutboxState


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


PENDING = OutboxState.PENDING.value  # to be tried again at ``retry_at``
DEAD = OutboxState.DEAD.value  # given up: cannot succeed as it stands; reported to the admins
SKIPPED = OutboxState.SKIPPED.value  # stale: no longer worth sending


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # PENDING, DEAD or SKIPPED
    retry_at: datetime | None = None  # when PENDING
    unreachable: str | None = None  # reason to mark the person unreachable, if any


BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=5)
DEAD_REPORT = "dead_report"  # the outbox kind of the admins' report of dead messages
UNREACHABLE = {
    FailureKind.NOT_STARTED: "never started the bot",
    FailureKind.BLOCKED: "blocked the bot",
    FailureKind.FORBIDDEN: "cannot be messaged",
    FailureKind.CHAT_NOT_FOUND: "chat not found",
}


def judge(failure: Failure, attempts: int, now: datetime, stale_at: datetime | None) -> Verdict:
    """``attempts``: how many sends of this message have failed, this one included."""
    if failure.kind in UNREACHABLE:
        return Verdict(DEAD, unreachable=UNREACHABLE[failure.kind])
    if failure.kind is FailureKind.BAD_REQUEST:
        return Verdict(DEAD)
    if failure.kind is FailureKind.RATE_LIMITED:
        retry_at = now + timedelta(seconds=max(failure.retry_after, 1.0))
    else:
        retry_at = now + backoff(attempts)
    if stale_at is not None and retry_at >= stale_at:
        return Verdict(SKIPPED)
    return Verdict(PENDING, retry_at)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure in a row: 2 s doubling, at most 5 minutes."""
    doublings = min(max(attempts, 1) - 1, 16)  # 2 s * 2**16 is far past the cap already
    return min(BACKOFF_BASE * (1 << doublings), BACKOFF_CAP)


def worth_reporting(kind: str) -> bool:
    """Whether a dead message of this outbox kind is reported to the admins: all are but the
    report itself (it goes to the admins; a report that it died would die the same way)."""
    return kind != DEAD_REPORT


def classify_forbidden(description: str) -> FailureKind:
    text = description.lower()
    if "blocked" in text:
        return FailureKind.BLOCKED
    if "initiate" in text:
        return FailureKind.NOT_STARTED
    return FailureKind.FORBIDDEN
