"""Reports that go out once: a person who cannot be reached (never joined, blocked the bot)
is reported to their leader once per reason, with an invite link where one helps; a message
given up (``dead``) is reported to the admins once, and listed on demand."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.render import dates, texts
from bot.render.english import counted
from bot.render.reasons import reason_text
from bot.services import notices
from bot.store import audit, org, outbox
from bot.store.engine import session_scope
from bot.store.outbox import DEAD_REPORT_KIND, DEAD_SUBJECT, DeadMessage
from bot.store.settings import BOT_USERNAME_SETTING, get_setting
from models.delivery import DEAD_REPORT, worth_reporting
from models.invites import code_hash, deep_link, new_code
from models.tables import Invite, Outbox
from models.text_limits import TEXT_LIMIT

log = logging.getLogger(__name__)
NEVER_JOINED = "never joined"
NAME_SHOWN, ERROR_SHOWN = 60, 120  # characters of a name and of an error in a dead-message line
LISTED = 200  # dead messages /dead reads (it shows as many as fit in one message)
_untold: dict[str, int] = {}  # how many dead messages were last logged as having nobody to tell


def unreachable(engine: Engine, settings: Settings, now: datetime) -> int:
    """Tell each unreachable person's leader, once per person and reason; returns how many."""
    told = 0
    with session_scope(engine) as session:
        username = settings.telegram.bot_username or get_setting(session, BOT_USERNAME_SETTING)
        for person in org.unreachable_people(session):
            reason = person.unreachable_reason or NEVER_JOINED
            leader = org.leader_of(session, person)
            if leader is None or not audit.first_report(
                session, "unreachable", person.key, reason, now
            ):
                continue
            dedupe = f"unreachable:{person.id}:{reason}"
            if person.telegram_user_id is None and username:
                code = new_code()
                org.add_invite(
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
                    reason=reason_text(leader.language, reason),
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
                    reason=reason_text(leader.language, reason),
                )
            audit.record(
                session,
                "unreachable.reported",
                now,
                subject=f"person:{person.key}",
                data={"reason": reason, "to": leader.key},
            )
            told += 1
    return told


def dead(engine: Engine, settings: Settings, now: datetime) -> int:
    """Tell every admin who has a chat with the bot, once, about each message given up since
    the last report (in one message); returns how many were reported. Without an admin to
    tell, they wait, and the first admin who joins hears of them."""
    if not settings.access.admins:
        return 0
    with session_scope(engine) as session:
        rows = [
            row
            for row in outbox.dead_messages(session, unreported=True)
            if worth_reporting(row.kind)
        ]
        if not rows:
            return 0
        admins = [
            person
            for person in org.people_by_keys(session, list(settings.access.admins))
            if person.active and person.telegram_user_id is not None
        ]
        if not admins:
            if len(rows) != _untold.get("count"):  # once per change, not every tick
                log.warning(
                    "%s given up; no admin has a chat to be told", counted(len(rows), "message")
                )
                _untold["count"] = len(rows)
            return 0
        for row in rows:
            audit.first_report(session, DEAD_REPORT_KIND, f"{DEAD_SUBJECT}{row.id}", "once", now)
        for admin in admins:
            text = dead_text(admin.language, settings, rows, "delivery.dead_report", len(rows))
            outbox.enqueue(
                session,
                Outbox(
                    created_at=now,
                    chat_id=admin.telegram_user_id or 0,
                    person_id=admin.id,
                    kind=DEAD_REPORT,
                    dedupe_key=f"dead_report:{admin.id}:{rows[0].id}",
                    payload={"method": "sendMessage", "text": text},
                    next_attempt_at=now,
                ),
            )
        audit.record(
            session,
            "delivery.dead_reported",
            now,
            data={"outbox": [row.id for row in rows], "to": [a.key for a in admins]},
        )
    return len(rows)


def dead_list(engine: Engine, settings: Settings, lang: str) -> str:
    """The messages given up, newest first, as many as fit in one message (for ``/dead``)."""
    with session_scope(engine) as session:
        rows = outbox.dead_messages(session, limit=LISTED)
        total = outbox.outbox_counts(session).get("dead", 0)
    if not rows:
        return texts.render(lang, "delivery.dead_none")
    return dead_text(lang, settings, rows, "delivery.dead_list", total)


def dead_text(
    lang: str, settings: Settings, rows: Sequence[DeadMessage], message_id: str, total: int
) -> str:
    """``message_id`` with one line per dead message, as many as keep it within Telegram's
    limit; the rest counted in a last line."""
    tz = ZoneInfo(settings.plant.timezone)
    frame = texts.render(lang, message_id, count=total, lines="")
    room = TEXT_LIMIT - len(frame) - len(texts.render(lang, "delivery.dead_more", count=total))
    lines: list[str] = []
    for row in rows:
        line = dead_line(lang, row, tz)
        if len(line) + 1 > room:
            break
        lines.append(line)
        room -= len(line) + 1
    if total > len(lines):
        lines.append(texts.render(lang, "delivery.dead_more", count=total - len(lines)))
    return texts.render(lang, message_id, count=total, lines="\n".join(lines))


def dead_line(lang: str, row: DeadMessage, tz: ZoneInfo) -> str:
    to = (
        f"{_cut(row.person_name, NAME_SHOWN)} ({_cut(row.person_key, NAME_SHOWN)})"
        if row.person_key is not None and row.person_name is not None
        else texts.render(lang, "delivery.dead_chat", chat=row.chat_id)
    )
    return texts.render(
        lang,
        "delivery.dead_line",
        id=row.id,
        kind=row.kind,
        to=to,
        at=dates.stamp(lang, dates.local(row.created_at, tz)),
        error=_cut(row.last_error or "?", ERROR_SHOWN),
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
