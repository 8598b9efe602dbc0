"""What a person's answer does to a duty. Pure: facts and ``now`` in, decisions out.

Answers: **done** (closes the duty; where the duty requires evidence, only once a photo or a
text arrives), **blocked** with a category (the side of the "iron triangle" that is short) and
an optional note, **later** with a new time (a commitment, followed up when it passes).

Rules:
- Only the person the occurrence belongs to may answer it.
- Excused, cancelled and absent occurrences take no answers.
- An answer, first or changed, is accepted until the deadline: the due time (or the promised
  time of a "later") plus the grace. After it the bot says it is too late and whom to ask.
- Repeating the current answer changes nothing and is not recorded again.
- A "later" promises a time at most ``MAX_LATER`` (7 days) ahead; a farther one is refused.
- A pending question (a note on a block, a time for "later", evidence, a leader's excuse
  reason or the name to reassign to) takes the person's next text first, even one that
  begins with done, blocked or later. Only a typed reply in full form is read as a typed
  reply instead (``full_reply``: "done" with numbers and nothing else, "blocked" with
  numbers and any note, "later" with numbers and a valid time); it closes the question. A
  text that cannot answer the question (no valid time for "later", text where a photo is
  needed) gets what is expected, and the question stays open until answered, skipped,
  replaced or expired.
- A photo asked for as evidence must be an image by its content (JPEG, PNG, WebP or HEIC),
  whatever the file's name says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from models.calendar import local_to_utc
from models.durations import parse_duration
from models.status import CLOSED, Status


class Action(StrEnum):
    DONE = "done"
    BLOCKED = "blocked"
    LATER = "later"


class Category(StrEnum):
    """Why a duty is blocked. Each maps to a side of the iron triangle (see ``TRIANGLE``)."""

    WAITING = "waiting"  # on others or on the process
    MATERIALS = "materials"  # materials, tools or equipment
    HELP = "help"  # needs help or training
    OTHER = "other"


TRIANGLE = {
    Category.WAITING: "process",
    Category.MATERIALS: "process",
    Category.HELP: "skill",
    Category.OTHER: "other",
}
CATEGORY_WORDS = {
    "waiting": Category.WAITING, "process": Category.WAITING, "others": Category.WAITING,
    "materials": Category.MATERIALS, "material": Category.MATERIALS, "tools": Category.MATERIALS,
    "equipment": Category.MATERIALS, "help": Category.HELP, "training": Category.HELP,
    "other": Category.OTHER,
}  # fmt: skip
STATUS_OF = {Action.DONE: Status.DONE, Action.BLOCKED: Status.BLOCKED, Action.LATER: Status.LATE}


class Refusal(StrEnum):
    NOT_YOURS = "not_yours"
    CLOSED = "closed"
    TOO_LATE = "too_late"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class OccurrenceFacts:
    id: int
    person_id: int
    day: date
    status: str
    due_at: datetime
    promised_at: datetime | None  # the new time of a "later", if that is the current answer
    evidence: str  # none | photo | text
    category: str | None = None  # of the current "blocked" answer


def deadline(facts: OccurrenceFacts, grace: timedelta) -> datetime:
    return max(facts.due_at, facts.promised_at or facts.due_at) + grace


def check(
    facts: OccurrenceFacts, person_id: int, now: datetime, grace: timedelta
) -> Refusal | None:
    """Why this person may not answer this occurrence now, or None if they may."""
    if facts.person_id != person_id:
        return Refusal.NOT_YOURS
    if facts.status in CLOSED:
        return Refusal.CLOSED
    if now > deadline(facts, grace):
        return Refusal.TOO_LATE
    return None


def is_same(
    facts: OccurrenceFacts, action: Action, category: str | None, promised: datetime | None
) -> bool:
    if STATUS_OF[action] != facts.status:
        return False
    if action is Action.BLOCKED:
        return category == facts.category
    if action is Action.LATER:
        return promised == facts.promised_at
    return True


def needs_evidence(facts: OccurrenceFacts) -> bool:
    return facts.evidence in ("photo", "text")


# --- "later": new times ------------------------------------------------------------------------


class LaterOption(StrEnum):
    HOUR = "1h"
    TWO_HOURS = "2h"
    END_OF_SHIFT = "es"
    TOMORROW = "tm"


def later_until(
    option: LaterOption, now: datetime, tz: str, due_at: datetime, shift_end: datetime
) -> datetime:
    """The promised instant for a "later" button. ``shift_end`` is the end of the person's
    shift or working day today; "tomorrow" keeps the duty's local due time."""
    if option is LaterOption.HOUR:
        return now + timedelta(hours=1)
    if option is LaterOption.TWO_HOURS:
        return now + timedelta(hours=2)
    if option is LaterOption.END_OF_SHIFT:
        return shift_end
    zone = ZoneInfo(tz)
    local_due = due_at.astimezone(zone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return _local(tomorrow, local_due.time().replace(tzinfo=None), zone)


def typed_time(text: str, now: datetime, tz: str) -> datetime | None:
    """A typed new time: "15:30" (today, local; must still be ahead) or "+2h". None if the
    text is not a time, or is one that has already passed."""
    text = text.strip()
    if text.startswith("+"):
        try:
            return now + parse_duration(text[1:])
        except (ValueError, OverflowError):  # "+99999999999d" is past any calendar
            return None
    match = re.fullmatch(r"([01]?\d|2[0-3])[:.]([0-5]\d)", text)
    if not match:
        return None
    zone = ZoneInfo(tz)
    at = _local(now.astimezone(zone).date(), time(int(match[1]), int(match[2])), zone)
    return at if at > now else None


MAX_LATER = timedelta(days=7)


DELAY = re.compile(r"\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def too_far(promised: datetime, now: datetime) -> bool:
    """Whether a promised time lies beyond the bound (a "later" must stay within reach)."""
    return promised > now + MAX_LATER


def later_refusal(text: str, promised: datetime | None, now: datetime) -> str | None:
    """Why a typed new time (``promised``: what ``typed_time`` read from ``text``) is
    refused: "not_a_time", "too_far" (also a delay too long to read at all, like
    "+99999d"), or None when it stands."""
    if promised is not None:
        return "too_far" if too_far(promised, now) else None
    delay = DELAY.fullmatch(text.strip().lower())
    if delay is None or not any(delay.groups()):
        return "not_a_time"
    days, hours, minutes, seconds = (int(part or 0) for part in delay.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return "too_far" if total > MAX_LATER.total_seconds() else "not_a_time"


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return local_to_utc(day, at, zone)


# --- typed replies -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Typed:
    action: Action
    numbers: tuple[int, ...]
    text: str = ""
    category: Category = Category.OTHER


@dataclass(frozen=True)
class Words:
    """The words a typed reply may start with, and the first words of a block's note that set
    its category, in lower case: English's (``ENGLISH``) plus those of the person's language
    (``Words.of``). Each language's words come from its catalogue (``[typed]``)."""

    actions: dict[str, Action]
    categories: dict[str, Category]

    @classmethod
    def of(cls, actions: dict[Action, list[str]], categories: dict[Category, list[str]]) -> Words:
        """English's words and these (a later word wins where two languages share one)."""
        own = {word.lower(): action for action, words in actions.items() for word in words}
        kinds = {word.lower(): kind for kind, words in categories.items() for word in words}
        return cls({**ENGLISH.actions, **own}, {**ENGLISH.categories, **kinds})

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(tuple(sorted(self.actions, key=len, reverse=True)))


ENGLISH = Words({action.value: action for action in Action}, CATEGORY_WORDS)


@cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # An action word, then a separator or the end ("done 1", "готово 1"); a Chinese word may
    # also run straight into the number, as Chinese is written ("完成1"), "done1" may not.
    alternatives = "|".join(re.escape(word) for word in words)
    after = r"(?:(?=[\s,]|$)|(?<=[\u3400-\u9fff])(?=\d))"
    return re.compile(rf"^\s*({alternatives}){after}(.*)$", re.IGNORECASE | re.DOTALL)


# One list number: up to three decimal digits (int() reads every Unicode decimal digit, but
# not "²" or "⑴", which str.isdigit() accepts), before a separator or the end.
NUMBER = re.compile(r"[\s,]*(\d{1,3})(?=[\s,]|$)")
LEADING_SEPARATORS = re.compile(r"^[\s,]+")
ONLY_NUMBERS = re.compile(r"(?:[\s,]*\d{1,3}(?=[\s,]|$))+[\s,]*")


class TypedProblem(StrEnum):
    NO_NUMBER = "no_number"
    NO_TIME = "no_time"


def parse_typed(text: str, words: Words = ENGLISH) -> Typed | TypedProblem | None:
    """``done 1 3``, ``blocked 2 waiting for the valve``, ``later 1 15:30`` (or the words of
    the person's language: ``готово 1 3``, ``erledigt 2``). None when the text is not a typed
    reply at all. Numbers are today's list numbers; "1,3" works too."""
    match = words.pattern.match(text)
    if not match:
        return None
    action = words.actions[match[1].lower()]
    rest, position = match[2], 0
    numbers: list[int] = []
    while found := NUMBER.match(rest, position):
        numbers.append(int(found[1]))
        position = found.end()
    if not numbers:
        return TypedProblem.NO_NUMBER
    unique = tuple(dict.fromkeys(numbers))
    tail = LEADING_SEPARATORS.sub("", rest[position:]).rstrip()  # the note, as written
    parts = tail.split()
    if action is Action.LATER:
        if len(parts) != 1:
            return TypedProblem.NO_TIME
        return Typed(action, unique, parts[0])
    if action is Action.BLOCKED:
        first = parts[0].lower().rstrip(":,.") if parts else ""
        category = words.categories.get(first, Category.OTHER)
        return Typed(action, unique, tail, category)
    return Typed(action, unique)


def full_reply(text: str, now: datetime, tz: str, words: Words = ENGLISH) -> bool:
    """Whether ``text`` is a typed reply in full form, the only text that does not answer a
    pending question: "done" with numbers and nothing else ("Done 2 hours ago" is not),
    "blocked" with numbers (the rest is its note), "later" with numbers and a time within
    the bound."""
    parsed = parse_typed(text, words)
    if not isinstance(parsed, Typed):
        return False
    if parsed.action is Action.DONE:
        match = words.pattern.match(text)
        return match is not None and ONLY_NUMBERS.fullmatch(match[2]) is not None
    if parsed.action is Action.LATER:
        return later_refusal(parsed.text, typed_time(parsed.text, now, tz), now) is None
    return True


# --- evidence files ----------------------------------------------------------------------------

IMAGE_SUFFIXES = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "heic": ".heic"}
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


def accepts_file(evidence: str, via: str, image: str | None) -> bool:
    """Whether a file counts as evidence: for a photo duty, a photo (Telegram sends only
    images as photos) or a document whose content is an image; for a text duty, any file."""
    return evidence != "photo" or via == "photo" or image is not None


def image_kind(head: bytes) -> str | None:
    """The image format of a file by its first bytes (its magic number), or None when it is
    not a JPEG, PNG, WebP or HEIC image. The name a sender gave the file plays no part."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    return None
