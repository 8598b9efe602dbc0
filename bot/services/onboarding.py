"""Onboarding: invite links for people, and redeeming them with ``/start <code>``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.services import language
from bot.store import audit, org, planning
from bot.store.engine import session_scope
from models.invites import InviteFacts, Outcome, PersonFacts, code_hash, decide, deep_link, new_code
from models.tables import Invite

log = logging.getLogger(__name__)


class InviteError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    person_key: str
    person_name: str
    link: str
    expires_at: datetime


def issue_invites(
    engine: Engine,
    keys: list[str],
    *,
    all_pending: bool,
    bot_username: str,
    ttl: timedelta,
    now: datetime,
) -> list[IssuedInvite]:
    """One fresh link per person. Unknown, inactive or already linked people are refused."""
    issued: list[IssuedInvite] = []
    with session_scope(engine) as session:
        people = list(org.pending_people(session)) if all_pending else []
        problems = []
        for key in keys:
            person = org.person_by_key(session, key)
            if person is None:
                problems.append(f"{key}: no such person (check the key in the org file)")
            elif not person.active:
                problems.append(f"{key}: this person is deactivated")
            elif person.telegram_user_id is not None:
                problems.append(f"{key}: already linked to a Telegram account")
            elif person not in people:
                people.append(person)
        if problems:
            raise InviteError("\n".join(problems))
        for person in people:
            assert person.id is not None
            code = new_code()
            expires_at = now + ttl
            org.add_invite(
                session,
                Invite(
                    code=code_hash(code), person_id=person.id, created_at=now, expires_at=expires_at
                ),
            )
            audit.record(
                session,
                "invite.issued",
                now,
                subject=f"person:{person.key}",
                data={"expires_at": expires_at.isoformat()},
            )
            link = deep_link(bot_username, code)
            issued.append(IssuedInvite(person.key, person.name, link, expires_at))
    return issued


@dataclass(frozen=True, slots=True)
class Redeemed:
    outcome: Outcome
    person_name: str = ""
    language: str = "en"


def redeem(
    engine: Engine,
    code: str,
    telegram_user_id: int,
    now: datetime,
    language_code: str | None = None,
) -> Redeemed:
    """Bind the account to the invite's person, if the invite allows it. The person on the
    account (the one just linked, or one linked before) gets Telegram's ``language_code`` as
    their language unless the org file named one or they chose one
    (``bot.services.language.follow_telegram``); the answer is in their language."""
    with session_scope(engine) as session:
        invite = org.invite_by_code(session, code_hash(code))
        person = org.person_by_id(session, invite.person_id) if invite else None
        account = org.person_by_telegram(session, telegram_user_id)
        outcome = decide(
            InviteFacts(invite.person_id, invite.expires_at, invite.used_at) if invite else None,
            PersonFacts(person.id, person.active, person.telegram_user_id)
            if person and person.id
            else None,
            account.id if account else None,
            telegram_user_id,
            now,
        )
        if outcome is not Outcome.LINK:
            log.info("invite refused for telegram user %s: %s", telegram_user_id, outcome.value)
            if account is not None and account.active:
                language.follow_telegram(session, account, language_code, now)
            shown = account if outcome is Outcome.ACCOUNT_TAKEN else person
            return Redeemed(
                outcome,
                shown.name if shown and outcome is not Outcome.UNKNOWN else "",
                account.language if account else (person.language if person else "en"),
            )
        assert invite is not None and person is not None
        if not org.claim_invite(session, invite.id or 0, telegram_user_id, now):
            return Redeemed(Outcome.USED, person.name, person.language)
        org.link_account(session, person, telegram_user_id, now)
        language.follow_telegram(session, person, language_code, now)
        planning.nudge_after_joining(session, person.id or 0, now)
        audit.record(
            session,
            "person.joined",
            now,
            subject=f"person:{person.key}",
            actor=person,
            actor_telegram_id=telegram_user_id,
        )
        return Redeemed(Outcome.LINK, person.name, person.language)
