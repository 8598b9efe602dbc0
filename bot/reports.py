"""Reports that go out once: a person who cannot be reached (never joined, blocked the bot)
is reported to their leader once per reason, with an invite link where one helps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from bot import notices, store
from bot.config import Settings
from bot.db import session_scope
from bot.store import BOT_USERNAME_SETTING
from models.invites import code_hash, deep_link, new_code
from models.tables import Invite

NEVER_JOINED = "never joined"


def unreachable(engine: Engine, settings: Settings, now: datetime) -> int:
    """Tell each unreachable person's leader, once per person and reason; returns how many."""
    told = 0
    with session_scope(engine) as session:
        username = settings.telegram.bot_username or store.get_setting(
            session, BOT_USERNAME_SETTING
        )
        for person in store.unreachable_people(session):
            reason = person.unreachable_reason or NEVER_JOINED
            leader = store.leader_of(session, person)
            if leader is None or not store.first_report(
                session, "unreachable", person.key, reason, now
            ):
                continue
            dedupe = f"unreachable:{person.id}:{reason}"
            if person.telegram_user_id is None and username:
                code = new_code()
                store.add_invite(
                    session,
                    Invite(
                        code=code_hash(code),
                        person_id=person.id or 0,
                        created_at=now,
                        expires_at=now + settings.invites.ttl,
                    ),
                )
                link = deep_link(username, code)
                notices.enqueue_text(
                    session,
                    leader,
                    "escalation.unreachable",
                    now,
                    dedupe,
                    name=person.name,
                    reason=reason,
                    link=link,
                )
            else:
                notices.enqueue_text(
                    session,
                    leader,
                    "escalation.unreachable_no_link",
                    now,
                    dedupe,
                    name=person.name,
                    reason=reason,
                )
            store.audit(
                session,
                "unreachable.reported",
                now,
                subject=f"person:{person.key}",
                data={"reason": reason, "to": leader.key},
            )
            told += 1
    return told
