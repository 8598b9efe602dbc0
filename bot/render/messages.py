"""Message texts and keyboards built from stored facts (the texts come from the catalogue).

The buttons' callback data is written by ``bot.callbacks`` (never trusted: the reply handler
checks every tap against the stored occurrence).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.callbacks import Answer, BlockCategory, LaterTime, SkipNote, button
from bot.render import dates, texts
from models.nudging import split_blocks
from models.occurrence import WITH_BUTTONS
from models.replies import Action, Category, LaterOption
from models.text_limits import TEXT_LIMIT

# Lines that keep their buttons: a person may change an answer until the deadline.
ANSWERABLE = WITH_BUTTONS


@dataclass(frozen=True, slots=True)
class NudgeLine:
    occurrence_id: int
    number: int
    title: str
    details: str
    due_at: datetime
    status: str = "open"
    status_text: str = ""  # e.g. the promised time of a "later"


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    text: str
    reply_markup: dict[str, object] | None
    occurrence_ids: tuple[int, ...] = ()


def local(at: datetime, tz: str) -> datetime:
    return dates.local(at, tz)


def day_label(lang: str, day: date) -> str:
    """A day as its reader reads it, with the weekday ("Tue, Nov 17" / "вт, 17 нояб.")."""
    return dates.day(lang, day)


def when_label(lang: str, at: datetime, tz: str | ZoneInfo, today: date | datetime) -> str:
    """A time as its reader sees it, in the reader's zone and language: "15:30" on the
    reader's ``today`` (a day, or an instant such as now), "Wed, Nov 18 15:30" on any other
    day, earlier or later; so no message about another day's item shows a bare time of day."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    when = at.astimezone(zone)
    day = today.astimezone(zone).date() if isinstance(today, datetime) else today
    clock = dates.clock(lang, when)
    if when.date() == day:
        return clock
    return texts.render(lang, "time.other_day", day=day_label(lang, when.date()), time=clock)


def due_label(lang: str, due_at: datetime, nudge_day: date, tz: str) -> str:
    """A duty's due time as its nudge shows it: with its date when not on ``nudge_day``."""
    return when_label(lang, due_at, tz, nudge_day)


def nudge_messages(
    lang: str,
    name: str,
    nudge_at: datetime,
    tz: str,
    lines: list[NudgeLine],
    *,
    late: bool = False,
    first_part: bool = True,
) -> list[RenderedMessage]:
    """The nudge for one person and one nudge time: one message, or several if it is long.
    ``first_part=False`` renders the continuation of a split nudge (for its edits)."""
    nudge_local = local(nudge_at, tz)
    day = day_label(lang, nudge_local.date())
    blocks = [_block(lang, line, nudge_local.date(), tz) for line in lines]
    late_note = (
        texts.render(lang, "nudge.late", time=dates.clock(lang, nudge_local)) + "\n" if late else ""
    )
    header = late_note + texts.render(lang, "nudge.header", name=name, day=day)
    more = late_note + texts.render(lang, "nudge.header_more", name=name, day=day)
    messages = []
    for index, part in enumerate(split_blocks(max(header, more, key=len), blocks)):
        head = header if index == 0 and first_part else more
        text = "\n".join([head, *(blocks[i] for i in part)])
        shown = [lines[i] for i in part]
        ids = tuple(line.occurrence_id for line in shown)
        messages.append(RenderedMessage(text, keyboard(lang, shown), ids))
    return messages


def _block(lang: str, line: NudgeLine, nudge_day: date, tz: str) -> str:
    due = due_label(lang, line.due_at, nudge_day, tz)
    text = texts.render(lang, "nudge.item", number=line.number, title=line.title, due=due)
    if line.status != "open":
        status = texts.render(lang, f"status.{line.status}", time=line.status_text)
        text += f" — {status}"
    if line.details:
        text += f"\n    {line.details}"
    return text[: TEXT_LIMIT // 2]  # one duty never fills a message on its own


def keyboard(lang: str, lines: list[NudgeLine]) -> dict[str, object] | None:
    rows = [
        [
            _button(lang, "nudge.button_done", line, Action.DONE),
            _button(lang, "nudge.button_blocked", line, Action.BLOCKED),
            _button(lang, "nudge.button_later", line, Action.LATER),
        ]
        for line in lines
        if line.status in ANSWERABLE
    ]
    return {"inline_keyboard": rows} if rows else None


def _button(lang: str, message_id: str, line: NudgeLine, action: Action) -> dict[str, str]:
    text = texts.render(lang, message_id, number=line.number)
    return button(text, Answer(action, line.occurrence_id))


def category_keyboard(lang: str, occurrence_id: int) -> dict[str, object]:
    """The question after "Blocked": one button per category, one per row."""
    rows = []
    for category in Category:
        label = _label(lang, f"reply.category_{category.value}")
        rows.append([button(label, BlockCategory(category, occurrence_id))])
    return {"inline_keyboard": rows}


def later_keyboard(lang: str, occurrence_id: int) -> dict[str, object]:
    """The question after "Later": the times to choose from, two to a row."""
    buttons = [
        button(_label(lang, f"reply.later_{option.value}"), LaterTime(option, occurrence_id))
        for option in LaterOption
    ]
    return {"inline_keyboard": [buttons[:2], buttons[2:]]}


def skip_keyboard(lang: str, occurrence_id: int) -> dict[str, object]:
    """Under the question for a block's note: skip it."""
    return {"inline_keyboard": [[button(_label(lang, "reply.skip"), SkipNote(occurrence_id))]]}


def _label(lang: str, message_id: str) -> str:
    return texts.render(lang, message_id)
