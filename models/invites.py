"""Deciding what a ``/start <code>`` does. Pure: facts and ``now`` in, an outcome out.

An invite is single-use and expires. It binds one Telegram account to one person; a second
account, a used or expired code, or an account already bound elsewhere is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    LINK = "link"
    ALREADY_LINKED = "already_linked"
    UNKNOWN = "code_unknown"
    USED = "code_used"
    EXPIRED = "code_expired"
    OTHER_ACCOUNT = "code_other_account"
    ACCOUNT_TAKEN = "account_taken"
    INACTIVE = "person_inactive"


@dataclass(frozen=True, slots=True)
class InviteFacts:
    person_id: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    id: int
    active: bool
    telegram_user_id: int | None


def decide(
    invite: InviteFacts | None,
    person: PersonFacts | None,
    account_person_id: int | None,
    telegram_user_id: int,
    now: datetime,
) -> Outcome:
    """``account_person_id``: the person this Telegram account is already bound to, if any."""
    if invite is None or person is None:
        return Outcome.UNKNOWN
    if account_person_id == person.id and person.telegram_user_id == telegram_user_id:
        return Outcome.ALREADY_LINKED
    if invite.used_at is not None:
        return Outcome.USED
    if now >= invite.expires_at:
        return Outcome.EXPIRED
    if not person.active:
        return Outcome.INACTIVE
    if account_person_id is not None:
        return Outcome.ACCOUNT_TAKEN
    if person.telegram_user_id is not None:
        return Outcome.OTHER_ACCOUNT
    return Outcome.LINK


CODE_BYTES = 18  # 24 characters of A-Z a-z 0-9 _ -, well inside Telegram's 64 for a start payload


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def code_hash(code: str) -> str:
    """Only the hash of a code is stored: a leaked database does not leak working invites."""
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"
