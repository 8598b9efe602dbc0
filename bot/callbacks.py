"""The callback data of every button the bot sends: one typed action per button, and the
one place that writes and reads its wire form.

Wire format (unchanged, so buttons already sent in chats keep working; at most 64 bytes, the
limit Telegram sets, and far below it: ids have at most 12 digits):

- ``r:<d|b|l>:<occurrence>``: Done, Blocked or Later under a nudge (``Answer``);
- ``c:<w|m|h|o>:<occurrence>``: the category of a block (``BlockCategory``);
- ``t:<1h|2h|es|tm>:<occurrence>``: the time of a "later" (``LaterTime``);
- ``k:s:<occurrence>``: skip the note of a block (``SkipNote``);
- ``e:<a|x|n|r|s>:<occurrence>``: a leader's action on an escalated item (``Lead``);
- ``e:p<person>:<occurrence>``: reassign to that person (``Pick``);
- ``e:g<page>:<occurrence>``: that page of the people to choose from (``Page``);
- ``l:<language>``: read execbot in this language from now on (``ChooseLanguage``; the tag as
  its catalogue spells it, ``l:zh-Hans``).

Callback data comes from the chat and is never trusted: ``decode`` reads only these shapes
(ASCII digits, no sign, no spaces, nothing around them) and returns None for anything else;
the services then check the action against the stored occurrence and the tapper (and a
language against the catalogues there are now).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from models.replies import Action as Reply
from models.replies import Category, LaterOption

MAX_BYTES = 64  # Telegram refuses a button whose callback data is longer
LEADER_PREFIX = "e:"  # leader actions; every other button answers the person's own duty
LEADER_PATTERN = f"^{LEADER_PREFIX}"  # for the CallbackQueryHandler of leader taps
LANGUAGE_PREFIX = "l:"  # the /language buttons
LANGUAGE_PATTERN = f"^{LANGUAGE_PREFIX}"  # for the CallbackQueryHandler of /language taps
ID_DIGITS = 12  # the longest id read back; a longer one is refused as forged

_ID = f"([0-9]{{1,{ID_DIGITS}}})"
_SHAPE = re.compile(f"([a-z]):([a-z0-9]{{1,{ID_DIGITS + 1}}}):{_ID}", re.ASCII)  # code: p + id
_PICK = re.compile(f"p{_ID}", re.ASCII)
_PAGE = re.compile(r"g([0-9]{1,4})", re.ASCII)
_LANGUAGE = re.compile(r"l:([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2})", re.ASCII)

REPLY_CODES = {"d": Reply.DONE, "b": Reply.BLOCKED, "l": Reply.LATER}
CATEGORY_CODES = {
    "w": Category.WAITING,
    "m": Category.MATERIALS,
    "h": Category.HELP,
    "o": Category.OTHER,
}
LATER_CODES = frozenset(option.value for option in LaterOption)
_CODE_OF_REPLY = {reply: code for code, reply in REPLY_CODES.items()}
_CODE_OF_CATEGORY = {category: code for code, category in CATEGORY_CODES.items()}


class LeadKind(StrEnum):
    """A leader's button on an escalation message (the value is its code)."""

    ACK = "a"  # "I'll handle it"
    EXCUSE = "x"
    NUDGE = "n"  # nudge the person again
    REASSIGN = "r"  # asks whom
    RESOLVE = "s"  # resolve a block


_LEAD_CODES = frozenset(kind.value for kind in LeadKind)


@dataclass(frozen=True, slots=True)
class Answer:
    reply: Reply
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class BlockCategory:
    category: Category
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class LaterTime:
    option: LaterOption
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class SkipNote:
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class Lead:
    kind: LeadKind
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class Pick:
    person_id: int
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class Page:
    page: int
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    language: str  # a catalogue's tag; whether it still is one is the service's to check


Action = Answer | BlockCategory | LaterTime | SkipNote | Lead | Pick | Page | ChooseLanguage
LeaderAction = Lead | Pick | Page
PersonAction = Answer | BlockCategory | LaterTime | SkipNote


def encode(action: Action) -> str:
    """The callback data of a button. Raises ValueError for data over 64 bytes or that
    ``decode`` would not read back as the same action (a negative or too long id): the bot
    never sends a button it cannot read."""
    data = _wire(action)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data[:80]!r}")
    if decode(data) != action:
        raise ValueError(f"callback data not readable back: {data!r}")
    return data


def decode(data: object) -> Action | None:
    """The action a button's data stands for, or None for anything the bot never sends
    (forged, garbage, too long, not a string). Never raises."""
    if not isinstance(data, str) or len(data) > MAX_BYTES:
        return None
    if (language := _LANGUAGE.fullmatch(data)) is not None:
        return ChooseLanguage(language.group(1))
    shape = _SHAPE.fullmatch(data)
    if shape is None:
        return None
    kind, code, raw_id = shape.groups()
    occurrence_id = int(raw_id)
    if kind == "r" and code in REPLY_CODES:
        return Answer(REPLY_CODES[code], occurrence_id)
    if kind == "c" and code in CATEGORY_CODES:
        return BlockCategory(CATEGORY_CODES[code], occurrence_id)
    if kind == "t" and code in LATER_CODES:
        return LaterTime(LaterOption(code), occurrence_id)
    if kind == "k" and code == "s":
        return SkipNote(occurrence_id)
    if kind == "e":
        return _leader(code, occurrence_id)
    return None


def button(text: str, action: Action) -> dict[str, str]:
    """An inline keyboard button (Bot API JSON) that sends ``action``."""
    return {"text": text, "callback_data": encode(action)}


def _wire(action: Action) -> str:
    match action:
        case Answer(reply, occurrence_id):
            return f"r:{_CODE_OF_REPLY[reply]}:{occurrence_id}"
        case BlockCategory(category, occurrence_id):
            return f"c:{_CODE_OF_CATEGORY[category]}:{occurrence_id}"
        case LaterTime(option, occurrence_id):
            return f"t:{option.value}:{occurrence_id}"
        case SkipNote(occurrence_id):
            return f"k:s:{occurrence_id}"
        case Lead(kind, occurrence_id):
            return f"{LEADER_PREFIX}{kind.value}:{occurrence_id}"
        case Pick(person_id, occurrence_id):
            return f"{LEADER_PREFIX}p{person_id}:{occurrence_id}"
        case Page(page, occurrence_id):
            return f"{LEADER_PREFIX}g{page}:{occurrence_id}"
        case ChooseLanguage(language):
            return f"{LANGUAGE_PREFIX}{language}"
    raise ValueError(f"not a button action: {action!r}")


def _leader(code: str, occurrence_id: int) -> LeaderAction | None:
    if code in _LEAD_CODES:
        return Lead(LeadKind(code), occurrence_id)
    if (pick := _PICK.fullmatch(code)) is not None:
        return Pick(int(pick.group(1)), occurrence_id)
    if (page := _PAGE.fullmatch(code)) is not None:
        return Page(int(page.group(1)), occurrence_id)
    return None
