"""Items a periodic pass cannot handle: logged, reported to the admins once, and skipped.

The planning, nudge and escalation passes each decide item by item (a duty, a person, an
occurrence). When deciding one item raises (a value the import would refuse but that got into
the database some other way, a snapshot from an older release), the pass leaves that item as
it is and goes on with the rest. Each such item is logged, and the admins (``[access]
admins``) get one chat message per item and cause (whichever pass meets it first), through
the outbox. "Once" is stored as a
``Report`` row (kind "problem"), so a pass that meets the same fault on its next tick, or
after a restart, stays quiet. The cause is compared without its digits, so a message that
names the instant it failed at is still the same cause.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config import Settings
from bot.services import notices
from bot.store import audit, org

log = logging.getLogger(__name__)
CAUSE_MAX = 300  # characters of the cause quoted to the admins


@dataclass(frozen=True, slots=True)
class Problem:
    pass_name: str  # "planning", "nudge", "escalation"
    item: str  # "duty furnace-reading", "person a.weber", "occurrence 42"
    cause: str  # one line: the exception's type and message


def problem(pass_name: str, item: str, error: BaseException) -> Problem:
    """The problem an exception raised while deciding ``item``."""
    text = " ".join(str(error).split())
    cause = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if len(cause) > CAUSE_MAX:
        cause = cause[: CAUSE_MAX - 1] + "…"
    return Problem(pass_name, item, cause)


def report(
    session: Session, settings: Settings, problems: list[Problem], now: datetime
) -> list[Problem]:
    """Log each problem; tell the admins of those not reported before. Returns those told."""
    told: list[Problem] = []
    for found in problems:
        subject = found.item[:80]  # once per item and cause, whichever pass meets it first
        if not audit.first_report(session, "problem", subject, _cause_id(found), now):
            log.debug("%s pass: %s still fails: %s", found.pass_name, found.item, found.cause)
            continue
        log.error("%s pass: left out %s: %s", found.pass_name, found.item, found.cause)
        audit.record(
            session,
            "problem.reported",
            now,
            subject=found.item,
            data={"pass": found.pass_name, "cause": found.cause},
        )
        for admin in org.people_by_keys(session, list(settings.access.admins)):
            notices.enqueue_text(
                session,
                admin,
                "problem.item",
                now,
                f"problem:{_cause_id(found)}:{_digest(subject)}:{admin.id}",
                item=found.item,
                pass_name=found.pass_name,
                cause=found.cause,
            )
        told.append(found)
    return told


def _cause_id(found: Problem) -> str:
    """The cause without its digits, as a short digest (a Report period holds 20 characters)."""
    return _digest(re.sub(r"\d+", "#", found.cause))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]
