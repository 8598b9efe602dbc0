"""Escalation messages: one message per recipient and group of notices, listing the items with
buttons to act, and re-rendered (edited) when somebody takes an item."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import store, texts
from bot.config import Settings
from bot.messages import NudgeLine, keyboard, when_label
from bot.timezones import TimezoneOf, timezone_resolver
from models.tables import Duty, Notice, Occurrence, Outbox, Person

MAX_ITEMS = 15  # five buttons each stays within Telegram's 100 buttons per message
TAKEN = {"excused": "excused", "resolved": "resolved", "reassigned": "reassigned", "done": "done"}
MOOT = frozenset({*TAKEN, "cancelled", "absent"})  # nothing left to tell anybody about
CHUNK = store.CHUNK
_TIMEZONES = "execbot.notices.timezone_of"


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


Message = tuple[Outbox, list[Notice]]  # a message to store, and the notices it lists


def queue_group(
    session: Session, settings: Settings, group: list[Notice], now: datetime
) -> list[Message]:
    """The group's message(s), for ``store_messages``. Notices about items finished while
    they waited (quiet hours, grouping) are dropped as "moot", not sent stale."""
    group = _live(session, group)
    if not group:
        return []
    recipient = store.person_by_id(session, group[0].recipient_id)
    if recipient is None or recipient.telegram_user_id is None:
        for notice in group:  # nobody to tell: recorded, not sent (the board still shows it)
            notice.state = "undeliverable"
            session.add(notice)
        return []
    messages: list[Message] = []
    for start in range(0, len(group), MAX_ITEMS):
        part = group[start : start + MAX_ITEMS]
        text, markup = render(session, settings, recipient, part)
        outbox = Outbox(
            created_at=now,
            chat_id=recipient.telegram_user_id,
            person_id=recipient.id,
            kind="escalation",
            dedupe_key=f"notice:{part[0].id}:{recipient.id}",
            payload={"method": "sendMessage", "text": text, "reply_markup": markup},
            next_attempt_at=now,
        )
        messages.append((outbox, part))
    return messages


def store_messages(session: Session, messages: list[Message]) -> int:
    """Store the messages in one batch (as ``store.enqueue`` would one by one: a message whose
    dedupe key is stored already is left out) and mark their notices queued with them.
    Returns how many were stored."""
    keys = [outbox.dedupe_key for outbox, _ in messages]
    stored = store.stored_dedupe_keys(session, keys)
    fresh = [outbox for outbox, _ in messages if outbox.dedupe_key not in stored]
    session.add_all(fresh)
    session.flush()  # one batch of inserts; the ids come back for the notices
    added = {id(outbox) for outbox in fresh}
    for outbox, part in messages:
        for notice in part:
            notice.state = "queued"
            notice.outbox_id = outbox.id if id(outbox) in added else None
            session.add(notice)
    return len(fresh)


def _live(session: Session, group: list[Notice]) -> list[Notice]:
    live = []
    for notice in group:
        occ = session.get(Occurrence, notice.occurrence_id)
        if occ is None or occ.status in MOOT:
            notice.state = "moot"
            session.add(notice)
        else:
            live.append(notice)
    return live


def prefetch(session: Session, group: list[Notice]) -> list[Any]:
    """Load the notices' occurrences, duties and people in a few queries, so rendering many
    groups reads them from the session. Keep the returned rows referenced while rendering
    (the session holds its rows weakly)."""
    occs = store.occurrences_by_ids(session, sorted({n.occurrence_id for n in group}))
    duties = store.duties_by_ids(session, sorted({occ.duty_id for occ in occs}))
    people: list[Person] = []
    person_ids = sorted({n.recipient_id for n in group} | {occ.person_id for occ in occs})
    for start in range(0, len(person_ids), CHUNK):
        people.extend(store.people_by_ids(session, person_ids[start : start + CHUNK]).values())
    return [*occs, *duties, *people]


def _found(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    occ = session.get(Occurrence, occurrence_id)
    duty = session.get(Duty, occ.duty_id) if occ is not None else None
    return (occ, duty) if occ is not None and duty is not None else None


def _timezone_of(session: Session, settings: Settings) -> TimezoneOf:
    """People's time zones, resolved from the units once per session."""
    resolver = session.info.get(_TIMEZONES)
    if resolver is None:
        resolver = timezone_resolver(store.unit_timezones(session), settings.plant.timezone)
        session.info[_TIMEZONES] = resolver
    return resolver


def render(
    session: Session, settings: Settings, recipient: Person, group: list[Notice]
) -> tuple[str, dict[str, Any] | None]:
    lang = recipient.language
    tz = _timezone_of(session, settings)
    if all(n.kind == "remind" for n in group):
        return _reminder(session, lang, tz(recipient.timezone, recipient.unit_id), group)
    lines = [texts.render(lang, "escalation.header", count=len(group))]
    rows: list[list[dict[str, str]]] = []
    for index, notice in enumerate(group, 1):
        found = _found(session, notice.occurrence_id)
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
        if occ.status == "reassigned":  # named after the new assignee, not the leader
            to = store.person_by_id(session, occ.reassigned_to) if occ.reassigned_to else None
            return texts.render(lang, "escalation.reassigned", name=to.name if to else "?"), False
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
        at = when_label(lang, occ.promised_at, zone, _sent(notice))
        return texts.render(lang, "escalation.missed_commitment", time=at), True
    due = when_label(lang, occ.due_at, zone, _sent(notice))
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
        found = _found(session, notice.occurrence_id)
        if found is None:
            continue
        occ, duty = found
        due = when_label(lang, occ.due_at, tz, _sent(notice))
        lines.append(
            texts.render(lang, "escalation.reminder", number=occ.number, title=duty.title, due=due)
        )
        shown.append(NudgeLine(occ.id or 0, occ.number, duty.title, "", occ.due_at, occ.status))
    return "\n".join(lines), keyboard(lang, shown)


def _sent(notice: Notice) -> datetime:
    """When the notice goes out at the earliest: the reader's "today" for its times."""
    return max(notice.created_at, notice.deliver_at)
