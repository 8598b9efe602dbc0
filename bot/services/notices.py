"""Escalation messages: one message per recipient and group of notices, listing the items with
buttons to act, and re-rendered (edited) when somebody takes an item.

A group too long for one message is split between items, never inside one (at most 4,096
characters and 15 items, so at most 75 buttons); a block note is quoted up to NOTE_LIMIT
characters and then cut with "…", one item never takes more than half a message, and an edit
that would grow past the limit cuts the longest items to fit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import callbacks
from bot.callbacks import Lead, LeadKind
from bot.config import Settings
from bot.render import texts
from bot.render.messages import NudgeLine, keyboard, when_label
from bot.store import escalation, occurrences, org, outbox, replies
from models.nudging import split_blocks
from models.occurrence import MOOT as MOOT  # finished: nothing left to tell anybody about
from models.occurrence import TAKEN, NoticeState
from models.tables import Duty, Notice, Occurrence, Outbox, Person
from models.text_limits import MAX_BUTTONS, TEXT_LIMIT, cut, fit
from models.timezones import TimezoneOf

MAX_ITEMS = 15  # items per message: five buttons each stays within Telegram's 100 buttons
BUTTONS_PER_ITEM = 5
assert MAX_ITEMS * BUTTONS_PER_ITEM <= MAX_BUTTONS
NOTE_LIMIT = 600  # characters of a block note quoted; a longer one is cut with "…"
ITEM_LIMIT = TEXT_LIMIT // 2  # one item never fills a message on its own
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
    """The group's message(s), for ``store_messages``. Notices about items finished while
    they waited (quiet hours, grouping) are dropped as "moot", not sent stale."""
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
    header, blocks = _blocks(session, settings, recipient, group)
    parts = split_blocks(header, [text for text, _ in blocks], TEXT_LIMIT, MAX_ITEMS)
    for indexes in parts:
        part = [notice for i in indexes for notice in items[i]]
        if len(parts) == 1:  # rendered already
            text, markup = _compose(session, recipient, part, header, blocks)
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


def _found(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    return occurrences.loaded_with_duty(session, occurrence_id)


def _timezone_of(session: Session, settings: Settings) -> TimezoneOf:
    """People's time zones, resolved from the units once per session."""
    resolver = session.info.get(_TIMEZONES)
    if resolver is None:
        resolver = org.timezones(session, settings.plant.timezone)
        session.info[_TIMEZONES] = resolver
    return resolver


def render(
    session: Session, settings: Settings, recipient: Person, group: list[Notice]
) -> tuple[str, dict[str, Any] | None]:
    """The message listing the group's items (an item notified twice is listed once), within
    Telegram's bounds whatever the items hold: long items are cut to fit."""
    header, blocks = _blocks(session, settings, recipient, group)
    return _compose(session, recipient, group, header, blocks)


def _compose(
    session: Session, recipient: Person, group: list[Notice], header: str, blocks: list[Block]
) -> tuple[str, dict[str, Any] | None]:
    lines = fit(header, [text for text, _ in blocks])
    rows = [row for _, item_rows in blocks for row in item_rows]
    if all(n.kind == "remind" for n in group):
        return cut("\n".join(lines), TEXT_LIMIT), keyboard(
            recipient.language, _shown(session, group)
        )
    text = cut("\n".join([header, *lines]), TEXT_LIMIT)
    return text, ({"inline_keyboard": rows} if rows else None)


def _items(group: list[Notice]) -> list[list[Notice]]:
    """The group's notices per item (occurrence), in order of first appearance."""
    items: dict[int, list[Notice]] = {}
    for notice in group:
        items.setdefault(notice.occurrence_id, []).append(notice)
    return list(items.values())


Block = tuple[str, list[list[dict[str, str]]]]  # one item's text and its rows of buttons


def _blocks(
    session: Session, settings: Settings, recipient: Person, group: list[Notice]
) -> tuple[str, list[Block]]:
    """The header and one block per item (each at most ITEM_LIMIT characters)."""
    lang = recipient.language
    tz = _timezone_of(session, settings)
    items = [notices[0] for notices in _items(group)]
    if all(n.kind == "remind" for n in group):
        return "", _reminder(session, lang, tz(recipient.timezone, recipient.unit_id), items)
    header = texts.render(lang, "escalation.header", count=len(items))
    blocks: list[Block] = []
    for index, notice in enumerate(items, 1):
        found = _found(session, notice.occurrence_id)
        if found is None:
            continue
        occ, duty = found
        person = org.person_by_id(session, occ.person_id)
        zone = ZoneInfo(tz(recipient.timezone, recipient.unit_id))
        situation, open_item = _situation(session, lang, occ, notice, zone)
        line = texts.render(
            lang, "escalation.item", index=index, person=person.name if person else "?",
            number=occ.number, title=duty.title, situation=situation,
        )  # fmt: skip
        blocks.append((cut(line, ITEM_LIMIT), _buttons(lang, index, occ) if open_item else []))
    return header, blocks


def _situation(
    session: Session, lang: str, occ: Occurrence, notice: Notice, zone: ZoneInfo
) -> tuple[str, bool]:
    if occ.status in TAKEN:
        actor = org.person_by_id(session, occ.acked_by) if occ.acked_by else None
        name = actor.name if actor else "?"
        if occ.status == "done":
            return texts.render(lang, "escalation.done"), False
        if occ.status == "reassigned":  # named after the new assignee, not the leader
            to = org.person_by_id(session, occ.reassigned_to) if occ.reassigned_to else None
            return texts.render(lang, "escalation.reassigned", name=to.name if to else "?"), False
        return texts.render(lang, f"escalation.{occ.status}", name=name), False
    if occ.acked_by is not None:
        actor = org.person_by_id(session, occ.acked_by)
        return texts.render(lang, "escalation.taken", name=actor.name if actor else "?"), False
    if occ.status == "blocked":
        last = replies.last_reply(session, occ.id or 0)
        category = texts.render(
            lang, f"reply.category_{(last.category if last else None) or 'other'}"
        )
        if last and last.text:
            note = cut(last.text, NOTE_LIMIT)
            return texts.render(lang, "escalation.block_note", category=category, note=note), True
        return texts.render(lang, "escalation.block", category=category), True
    if occ.status == "late" and occ.promised_at is not None:
        at = when_label(lang, occ.promised_at, zone, _sent(notice))
        return texts.render(lang, "escalation.missed_commitment", time=at), True
    due = when_label(lang, occ.due_at, zone, _sent(notice))
    return texts.render(lang, "escalation.silence", due=due), True


def _buttons(lang: str, index: int, occ: Occurrence) -> list[list[dict[str, str]]]:
    def button(message_id: str, kind: LeadKind) -> dict[str, str]:
        text = texts.render(lang, message_id, index=index)
        return callbacks.button(text, Lead(kind, occ.id or 0))

    first = [button("escalation.ack", LeadKind.ACK), button("escalation.excuse", LeadKind.EXCUSE)]
    second = [
        button("escalation.nudge", LeadKind.NUDGE),
        button("escalation.reassign", LeadKind.REASSIGN),
    ]
    if occ.status == "blocked":
        second.append(button("escalation.resolve", LeadKind.RESOLVE))
    return [first, second]


def _reminder(session: Session, lang: str, tz: str, group: list[Notice]) -> list[Block]:
    blocks: list[Block] = []
    for notice in group:
        found = _found(session, notice.occurrence_id)
        if found is None:
            continue
        occ, duty = found
        due = when_label(lang, occ.due_at, tz, _sent(notice))
        line = texts.render(
            lang, "escalation.reminder", number=occ.number, title=duty.title, due=due
        )
        blocks.append((cut(line, ITEM_LIMIT), []))
    return blocks


def _shown(session: Session, group: list[Notice]) -> list[NudgeLine]:
    """The reminded duties, for their Done / Blocked / Later buttons."""
    shown = []
    for notices in _items(group):
        found = _found(session, notices[0].occurrence_id)
        if found is not None:
            occ, duty = found
            shown.append(NudgeLine(occ.id or 0, occ.number, duty.title, "", occ.due_at, occ.status))
    return shown


def _sent(notice: Notice) -> datetime:
    """When the notice goes out at the earliest: the reader's "today" for its times."""
    return max(notice.created_at, notice.deliver_at)
