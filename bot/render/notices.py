"""The texts and buttons of what leaders see: escalation messages, the re-nudge a leader sends,
and the reassign picker. Built from facts ``bot.services.notices`` and ``bot.services.actions``
gathered; nothing here reads the database.

An escalation message lists items, each with its buttons (``_buttons``: I'll handle it, Excuse,
Nudge again, Reassign, and Resolved under a block); a reminder lists the person's own duties
with their Done / Blocked / Later buttons. A block note is quoted up to NOTE_LIMIT characters
and then cut with "…", one item never takes more than half a message, and a message that would
grow past Telegram's limit has its longest items cut to fit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import callbacks
from bot.callbacks import Lead, LeadKind, Page, Pick
from bot.render import texts
from bot.render.messages import NudgeLine, keyboard, when_label
from models.occurrence import TAKEN
from models.reassign import page_count, page_slice
from models.tables import Duty, Occurrence, Person, Reply
from models.text_limits import MAX_BUTTONS, TEXT_LIMIT, cut, fit

MAX_ITEMS = 15  # items per message: five buttons each stays within Telegram's 100 buttons
BUTTONS_PER_ITEM = 5
assert MAX_ITEMS * BUTTONS_PER_ITEM <= MAX_BUTTONS
NOTE_LIMIT = 600  # characters of a block note quoted; a longer one is cut with "…"
ITEM_LIMIT = TEXT_LIMIT // 2  # one item never fills a message on its own

Block = tuple[str, list[list[dict[str, str]]]]  # one item's text and its rows of buttons
Markup = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Item:
    """One item of an escalation message, as ``bot.services.notices`` found it."""

    index: int  # its number in the message (1, 2, ...)
    occ: Occurrence
    duty: Duty
    sent: datetime  # when the notice goes out at the earliest: the reader's "today"
    person: str = "?"  # whose item
    taken_by: str = "?"  # who acked it, for a taken item
    reassigned_to: str = "?"  # for a reassigned one
    last: Reply | None = None  # the last reply, for a block (its category and note)


def blocks(
    lang: str, tz: str, items: list[Item], reminder: bool, count: int
) -> tuple[str, list[Block]]:
    """The header (``count`` items need attention) and one block per item (each at most
    ITEM_LIMIT characters). A reminder has no header."""
    if reminder:
        return "", [_reminder(lang, tz, item) for item in items]
    header = texts.render(lang, "escalation.header", count=count)
    zone = ZoneInfo(tz)
    result: list[Block] = []
    for item in items:
        situation, open_item = _situation(lang, item, zone)
        line = texts.render(
            lang, "escalation.item", index=item.index, person=item.person,
            number=item.occ.number, title=item.duty.title, situation=situation,
        )  # fmt: skip
        buttons = _buttons(lang, item.index, item.occ) if open_item else []
        result.append((cut(line, ITEM_LIMIT), buttons))
    return header, result


def compose(
    lang: str, items: list[Item], header: str, blocks: list[Block], reminder: bool
) -> tuple[str, Markup | None]:
    """The message of the blocks, within Telegram's bounds: long items are cut to fit."""
    lines = fit(header, [text for text, _ in blocks])
    rows = [row for _, item_rows in blocks for row in item_rows]
    if reminder:  # the reminded duties keep their Done / Blocked / Later buttons
        shown = [
            NudgeLine(i.occ.id or 0, i.occ.number, i.duty.title, "", i.occ.due_at, i.occ.status)
            for i in items
        ]
        return cut("\n".join(lines), TEXT_LIMIT), keyboard(lang, shown)
    text = cut("\n".join([header, *lines]), TEXT_LIMIT)
    return text, ({"inline_keyboard": rows} if rows else None)


def _situation(lang: str, item: Item, zone: ZoneInfo) -> tuple[str, bool]:
    """What the item's line says about it, and whether it still has buttons."""
    occ = item.occ
    if occ.status in TAKEN:
        if occ.status == "done":
            return texts.render(lang, "escalation.done"), False
        if occ.status == "reassigned":  # named after the new assignee, not the leader
            return texts.render(lang, "escalation.reassigned", name=item.reassigned_to), False
        return texts.render(lang, f"escalation.{occ.status}", name=item.taken_by), False
    if occ.acked_by is not None:
        return texts.render(lang, "escalation.taken", name=item.taken_by), False
    if occ.status == "blocked":
        last = item.last
        category = texts.render(
            lang, f"reply.category_{(last.category if last else None) or 'other'}"
        )
        if last and last.text:
            note = cut(last.text, NOTE_LIMIT)
            return texts.render(lang, "escalation.block_note", category=category, note=note), True
        return texts.render(lang, "escalation.block", category=category), True
    if occ.status == "late" and occ.promised_at is not None:
        at = when_label(lang, occ.promised_at, zone, item.sent)
        return texts.render(lang, "escalation.missed_commitment", time=at), True
    due = when_label(lang, occ.due_at, zone, item.sent)
    return texts.render(lang, "escalation.silence", due=due), True


def _buttons(lang: str, index: int, occ: Occurrence) -> list[list[dict[str, str]]]:
    """A leader's buttons under item ``index`` (labels: ``escalation.*`` in the locales);
    what each does is in ``bot.services.actions`` (Reassign: ``bot.services.reassign``)."""

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


def _reminder(lang: str, tz: str, item: Item) -> Block:
    due = when_label(lang, item.occ.due_at, tz, item.sent)
    line = texts.render(
        lang, "escalation.reminder", number=item.occ.number, title=item.duty.title, due=due
    )
    return cut(line, ITEM_LIMIT), []


def renudge(lang: str, leader: str, occ: Occurrence, duty: Duty, due: str) -> dict[str, Any]:
    """The message a leader's "Nudge again" sends: its text and the answer buttons."""
    line = NudgeLine(occ.id or 0, occ.number, duty.title, duty.details, occ.due_at, occ.status)
    text = texts.render(
        lang, "action.renudge", leader=leader, number=occ.number, title=duty.title, due=due
    )
    return {"text": text, "reply_markup": keyboard(lang, [line])}


def reassign_page(
    lang: str, occ: Occurrence, people: list[Person], page: int, params: dict[str, object]
) -> tuple[str, Markup]:
    """The question after "Reassign" and one page of names, with buttons to the pages before
    and after."""
    total, pages = len(people), page_count(len(people))
    shown = page_slice(total, page) or slice(0, 0)
    rows = [[callbacks.button(p.name, Pick(p.id or 0, occ.id or 0))] for p in people[shown]]
    lines = [texts.render(lang, "action.ask_reassign", **params)]
    if pages > 1:
        lines.append(
            texts.render(
                lang, "action.reassign_page", first=shown.start + 1, last=shown.stop,
                total=total, page=page, pages=pages,
            )
        )  # fmt: skip
        turn = [(page - 1, "action.page_previous"), (page + 1, "action.page_next")]
        rows.append(
            [
                callbacks.button(texts.render(lang, label, page=n), Page(n, occ.id or 0))
                for n, label in turn
                if 1 <= n <= pages
            ]
        )
    return "\n".join(lines), {"inline_keyboard": rows}
