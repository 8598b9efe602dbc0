"""Escalation messages: one message per recipient and group of notices, queued in the outbox,
and re-rendered (edited) when somebody takes an item. This module gathers the facts and stores
the messages; their texts and buttons are built in ``bot.render.notices``.

A group too long for one message is split between items, never inside one (at most 4,096
characters and 15 items, so at most 75 buttons)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import Settings
from bot.delivery.outcomes import Edit
from bot.render import texts
from bot.render.notices import MAX_ITEMS, Item, Markup, blocks, compose
from bot.store import escalation, occurrences, org, outbox, replies
from models.nudging import split_blocks
from models.occurrence import MOOT, TAKEN, NoticeState
from models.tables import Duty, Notice, Occurrence, Outbox, Person
from models.text_limits import TEXT_LIMIT
from models.timezones import TimezoneOf

_TIMEZONES = "execbot.notices.timezone_of"


def enqueue_text(
    session: Session, person: Person, message_id: str, now: datetime, dedupe: str, **params: Any
) -> None:
    """A plain message to a person (if they have a chat)."""
    if person.telegram_user_id is None:
        return
    outbox.enqueue(
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
    """The group's messages (one or more), for ``store_messages``. Notices about items
    finished while they waited (quiet hours, grouping) are dropped as "moot", not sent stale."""
    group = _live(session, group)
    if not group:
        return []
    recipient = org.person_by_id(session, group[0].recipient_id)
    if recipient is None or recipient.telegram_user_id is None:
        for notice in group:  # nobody to tell: recorded, not sent (the board still shows it)
            notice.state = NoticeState.UNDELIVERABLE.value
        escalation.save_notices(session, group)
        return []
    messages: list[Message] = []
    items = _items(group)
    lang, reminder, found = recipient.language, _reminder(group), _gather(session, group)
    header, listed = blocks(lang, _tz(session, settings, recipient), found, reminder, len(items))
    parts = split_blocks(header, [text for text, _ in listed], TEXT_LIMIT, MAX_ITEMS)
    for indexes in parts:
        part = [notice for i in indexes for notice in items[i]]
        if len(parts) == 1:  # rendered already
            text, markup = compose(lang, found, header, listed, reminder)
        else:
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
    """Store the messages in one batch (as ``outbox.enqueue`` would one by one: a message whose
    dedupe key is stored already is left out) and mark their notices queued with them.
    Returns how many were stored."""
    fresh = outbox.add_new(session, [message for message, _ in messages])
    added = {id(message) for message in fresh}
    for message, part in messages:
        for notice in part:
            notice.state = NoticeState.QUEUED.value
            notice.outbox_id = message.id if id(message) in added else None
        escalation.save_notices(session, part)
    return len(fresh)


def _live(session: Session, group: list[Notice]) -> list[Notice]:
    live = []
    for notice in group:
        if (found := _found(session, notice.occurrence_id)) is None or found[0].status in MOOT:
            notice.state = NoticeState.MOOT.value
            escalation.save_notices(session, [notice])
        else:
            live.append(notice)
    return live


def prefetch(session: Session, group: list[Notice]) -> list[Any]:
    """Load the notices' occurrences, duties and people in a few queries, so rendering many
    groups reads them from the session. Keep the returned rows referenced while rendering
    (the session holds its rows weakly)."""
    occs = occurrences.occurrences_by_ids(session, sorted({n.occurrence_id for n in group}))
    duties = occurrences.duties_by_ids(session, sorted({occ.duty_id for occ in occs}))
    person_ids = sorted({n.recipient_id for n in group} | {occ.person_id for occ in occs})
    people = org.people_by_ids(session, person_ids).values()
    return [*occs, *duties, *people]


def _timezone_of(session: Session, settings: Settings) -> TimezoneOf:
    """People's time zones, resolved from the units once per session."""
    resolver = session.info.get(_TIMEZONES)
    if resolver is None:
        resolver = org.timezones(session, settings.plant.timezone)
        session.info[_TIMEZONES] = resolver
    return resolver


def render(
    session: Session, settings: Settings, recipient: Person, group: list[Notice]
) -> tuple[str, Markup | None]:
    """The message listing the group's items (an item notified twice is listed once), within
    Telegram's bounds whatever the items hold: long items are cut to fit."""
    lang, reminder, found = recipient.language, _reminder(group), _gather(session, group)
    tz, count = _tz(session, settings, recipient), len(_items(group))
    header, listed = blocks(lang, tz, found, reminder, count)
    return compose(lang, found, header, listed, reminder)


def edits(session: Session, settings: Settings, occ: Occurrence) -> list[Edit]:
    """Re-render every escalation message that lists this occurrence (each recipient then
    sees who took it); none for a message whose text would not change."""
    result = []
    for outbox_id in sorted(
        {n.outbox_id for n in escalation.notices_of(session, occ.id or 0) if n.outbox_id}
    ):
        message = outbox.by_id(session, outbox_id)
        group = escalation.notices_in(session, outbox_id)
        recipient = org.person_by_id(session, group[0].recipient_id) if group else None
        if message is None or message.telegram_message_id is None or recipient is None:
            continue
        text, markup = render(session, settings, recipient, group)
        payload = dict(message.payload)
        if text == payload.get("text") and markup == payload.get("reply_markup"):
            continue
        message.payload = payload | {"text": text, "reply_markup": markup}
        outbox.save(session, message)
        result.append(Edit(message.chat_id, message.telegram_message_id, text, markup))
    return result


def _reminder(group: list[Notice]) -> bool:
    return all(n.kind == "remind" for n in group)


def _tz(session: Session, settings: Settings, recipient: Person) -> str:
    return _timezone_of(session, settings)(recipient.timezone, recipient.unit_id)


def _items(group: list[Notice]) -> list[list[Notice]]:
    """The group's notices per item (occurrence), in order of first appearance."""
    items: dict[int, list[Notice]] = {}
    for notice in group:
        items.setdefault(notice.occurrence_id, []).append(notice)
    return list(items.values())


def _gather(session: Session, group: list[Notice]) -> list[Item]:
    """The facts of each item the group lists, for ``bot.render.notices`` (a reminder needs
    only the duty; an item gone since is left out, its index kept)."""
    reminder = _reminder(group)
    items = []
    for index, notices in enumerate(_items(group), 1):
        found = _found(session, notices[0].occurrence_id)
        if found is None:
            continue
        occ, duty = found
        sent = max(notices[0].created_at, notices[0].deliver_at)
        if reminder:
            items.append(Item(index, occ, duty, sent))
            continue
        last = replies.last_reply(session, occ.id or 0) if _quotes_block(occ) else None
        taken_by, reassigned_to = _name(session, occ.acked_by), _name(session, occ.reassigned_to)
        person = _name(session, occ.person_id)
        items.append(Item(index, occ, duty, sent, person, taken_by, reassigned_to, last))
    return items


def _quotes_block(occ: Occurrence) -> bool:
    """Whether the item's line shows its block (category and note): blocked and not taken."""
    return occ.status == "blocked" and occ.status not in TAKEN and occ.acked_by is None


def _name(session: Session, person_id: int | None) -> str:
    person = org.person_by_id(session, person_id) if person_id else None
    return person.name if person else "?"


def _found(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    return occurrences.loaded_with_duty(session, occurrence_id)
