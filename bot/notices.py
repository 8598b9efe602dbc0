"""Escalation messages: one message per recipient and group of notices, listing the items with
buttons to act, and re-rendered (edited) when somebody takes an item."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import store, texts
from bot.config import Settings
from bot.messages import NudgeLine, keyboard
from bot.timezones import timezone_resolver
from models.tables import Notice, Occurrence, Outbox, Person

MAX_ITEMS = 15  # five buttons each stays within Telegram's 100 buttons per message
TAKEN = {"excused": "excused", "resolved": "resolved", "reassigned": "reassigned", "done": "done"}


def enqueue_text(
    session: Session, person: Person, message_id: str, now: datetime, dedupe: str, **params: Any
) -> None:
    """A plain message to a person (if they have a chat)."""
    if person.telegram_user_id is None:
        return
    store.enqueue(
        session,
        Outbox(
            created_at=now,
            chat_id=person.telegram_user_id,
            person_id=person.id,
            kind="notice",
            dedupe_key=dedupe,
            payload={
                "method": "sendMessage",
                "text": texts.render(person.language, message_id, **params),
            },
            next_attempt_at=now,
        ),
    )


def queue_group(session: Session, settings: Settings, group: list[Notice], now: datetime) -> None:
    recipient = store.person_by_id(session, group[0].recipient_id)
    if recipient is None or recipient.telegram_user_id is None:
        for notice in group:  # nobody to tell: recorded, not sent (the board still shows it)
            notice.state = "undeliverable"
            session.add(notice)
        return
    for start in range(0, len(group), MAX_ITEMS):
        part = group[start : start + MAX_ITEMS]
        text, markup = render(session, settings, recipient, part)
        outbox = store.enqueue(
            session,
            Outbox(
                created_at=now,
                chat_id=recipient.telegram_user_id,
                person_id=recipient.id,
                kind="escalation",
                dedupe_key=f"notice:{part[0].id}:{recipient.id}",
                payload={"method": "sendMessage", "text": text, "reply_markup": markup},
                next_attempt_at=now,
            ),
        )
        for notice in part:
            notice.state = "queued"
            notice.outbox_id = outbox.id if outbox else None
            session.add(notice)


def render(
    session: Session, settings: Settings, recipient: Person, group: list[Notice]
) -> tuple[str, dict[str, Any] | None]:
    lang = recipient.language
    tz = timezone_resolver(store.unit_timezones(session), settings.plant.timezone)
    if all(n.kind == "remind" for n in group):
        return _reminder(session, lang, tz(recipient.timezone, recipient.unit_id), group)
    lines = [texts.render(lang, "escalation.header", count=len(group))]
    rows: list[list[dict[str, str]]] = []
    for index, notice in enumerate(group, 1):
        found = store.occurrence_with_duty(session, notice.occurrence_id)
        if found is None:
            continue
        occ, duty = found
        person = store.person_by_id(session, occ.person_id)
        zone = ZoneInfo(tz(recipient.timezone, recipient.unit_id))
        situation, open_item = _situation(session, lang, occ, notice, zone)
        lines.append(
            texts.render(
                lang, "escalation.item", index=index, person=person.name if person else "?",
                number=occ.number, title=duty.title, situation=situation,
            )
        )  # fmt: skip
        if open_item:
            rows.extend(_buttons(lang, index, occ))
    return "\n".join(lines), ({"inline_keyboard": rows} if rows else None)


def _situation(
    session: Session, lang: str, occ: Occurrence, notice: Notice, zone: ZoneInfo
) -> tuple[str, bool]:
    if occ.status in TAKEN:
        actor = store.person_by_id(session, occ.acked_by) if occ.acked_by else None
        name = actor.name if actor else "?"
        if occ.status == "done":
            return texts.render(lang, "escalation.done"), False
        if occ.status == "reassigned":
            return texts.render(lang, "escalation.reassigned", name=name), False
        return texts.render(lang, f"escalation.{TAKEN[occ.status]}", name=name), False
    if occ.acked_by is not None:
        actor = store.person_by_id(session, occ.acked_by)
        return texts.render(lang, "escalation.taken", name=actor.name if actor else "?"), False
    if occ.status == "blocked":
        last = store.last_reply(session, occ.id or 0)
        category = texts.render(
            lang, f"reply.category_{(last.category if last else None) or 'other'}"
        )
        if last and last.text:
            return texts.render(
                lang, "escalation.block_note", category=category, note=last.text
            ), True
        return texts.render(lang, "escalation.block", category=category), True
    if occ.status == "late" and occ.promised_at is not None:
        at = occ.promised_at.astimezone(zone).strftime("%H:%M")
        return texts.render(lang, "escalation.missed_commitment", time=at), True
    due = occ.due_at.astimezone(zone).strftime("%H:%M")
    return texts.render(lang, "escalation.silence", due=due), True


def _buttons(lang: str, index: int, occ: Occurrence) -> list[list[dict[str, str]]]:
    def button(message_id: str, action: str) -> dict[str, str]:
        return {
            "text": texts.render(lang, message_id, index=index),
            "callback_data": f"e:{action}:{occ.id}",
        }

    first = [button("escalation.ack", "a"), button("escalation.excuse", "x")]
    second = [button("escalation.nudge", "n"), button("escalation.reassign", "r")]
    if occ.status == "blocked":
        second.append(button("escalation.resolve", "s"))
    return [first, second]


def _reminder(
    session: Session, lang: str, tz: str, group: list[Notice]
) -> tuple[str, dict[str, Any] | None]:
    lines, shown = [], []
    for notice in group:
        found = store.occurrence_with_duty(session, notice.occurrence_id)
        if found is None:
            continue
        occ, duty = found
        due = occ.due_at.astimezone(ZoneInfo(tz)).strftime("%H:%M")
        lines.append(
            texts.render(lang, "escalation.reminder", number=occ.number, title=duty.title, due=due)
        )
        shown.append(NudgeLine(occ.id or 0, occ.number, duty.title, "", occ.due_at, occ.status))
    return "\n".join(lines), keyboard(lang, shown)
