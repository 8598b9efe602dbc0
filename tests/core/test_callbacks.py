"""The callback codec: every button's action and its wire form (unchanged from the strings
sent before the codec, so old buttons in chats keep working), the 64-byte bound, forged data,
and every keyboard the bot builds going through it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import get_args

import pytest

from bot.callbacks import (
    MAX_BYTES,
    Action,
    Answer,
    BlockCategory,
    ChooseLanguage,
    LaterTime,
    Lead,
    LeadKind,
    Page,
    Pick,
    SkipNote,
    decode,
    encode,
)
from bot.render import notices, texts
from bot.render.messages import (
    NudgeLine,
    category_keyboard,
    keyboard,
    later_keyboard,
    skip_keyboard,
)
from bot.services import language
from models.reassign import PAGE_SIZE
from models.replies import Action as Reply
from models.replies import Category, LaterOption
from models.tables import Occurrence, Person

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 17)
TOP = 10**12 - 1  # the largest id read back (12 digits)

# Every action the bot sends, with the exact data the bot sent before the codec existed.
WIRE: list[tuple[Action, str]] = [
    (Answer(Reply.DONE, 42), "r:d:42"),
    (Answer(Reply.BLOCKED, 42), "r:b:42"),
    (Answer(Reply.LATER, 42), "r:l:42"),
    (BlockCategory(Category.WAITING, 7), "c:w:7"),
    (BlockCategory(Category.MATERIALS, 7), "c:m:7"),
    (BlockCategory(Category.HELP, 7), "c:h:7"),
    (BlockCategory(Category.OTHER, 7), "c:o:7"),
    (LaterTime(LaterOption.HOUR, 9), "t:1h:9"),
    (LaterTime(LaterOption.TWO_HOURS, 9), "t:2h:9"),
    (LaterTime(LaterOption.END_OF_SHIFT, 9), "t:es:9"),
    (LaterTime(LaterOption.TOMORROW, 9), "t:tm:9"),
    (SkipNote(3), "k:s:3"),
    (Lead(LeadKind.ACK, 5), "e:a:5"),
    (Lead(LeadKind.EXCUSE, 5), "e:x:5"),
    (Lead(LeadKind.NUDGE, 5), "e:n:5"),
    (Lead(LeadKind.REASSIGN, 5), "e:r:5"),
    (Lead(LeadKind.RESOLVE, 5), "e:s:5"),
    (Pick(12, 5), "e:p12:5"),
    (Page(2, 5), "e:g2:5"),
    (Answer(Reply.DONE, 0), "r:d:0"),
    (Answer(Reply.DONE, TOP), f"r:d:{TOP}"),
    (Pick(TOP, TOP), f"e:p{TOP}:{TOP}"),
    (Page(9999, TOP), f"e:g9999:{TOP}"),
    (ChooseLanguage("en"), "l:en"),
    (ChooseLanguage("zh-Hans"), "l:zh-Hans"),
    (ChooseLanguage("sr-Latn-RS"), "l:sr-Latn-RS"),
]


def test_every_kind_of_action_and_every_code_is_covered() -> None:
    actions_sent = [action for action, _ in WIRE]
    assert {type(a) for a in actions_sent} == set(get_args(Action))
    assert {a.reply for a in actions_sent if isinstance(a, Answer)} == set(Reply)
    assert {a.category for a in actions_sent if isinstance(a, BlockCategory)} == set(Category)
    assert {a.option for a in actions_sent if isinstance(a, LaterTime)} == set(LaterOption)
    assert {a.kind for a in actions_sent if isinstance(a, Lead)} == set(LeadKind)


@pytest.mark.parametrize(("action", "data"), WIRE, ids=[data for _, data in WIRE])
def test_round_trip_keeps_the_wire_format(action: Action, data: str) -> None:
    assert encode(action) == data
    assert decode(data) == action
    assert len(data.encode()) <= MAX_BYTES


def test_encode_refuses_data_over_64_bytes() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        encode(Answer(Reply.DONE, 10**70))
    with pytest.raises(ValueError, match="64 bytes"):
        encode(Pick(10**40, 10**40))


@pytest.mark.parametrize(
    "action",
    [
        Answer(Reply.DONE, -1),
        Answer(Reply.DONE, TOP + 1),
        SkipNote(-7),
        Lead(LeadKind.ACK, 10**13),
        Pick(-1, 5),
        Pick(TOP + 1, 5),
        Page(-1, 5),
        Page(10_000, 5),
        ChooseLanguage(""),
        ChooseLanguage("zh Hans"),
        ChooseLanguage("../en"),
    ],
)
def test_encode_refuses_what_decode_would_not_read_back(action: Action) -> None:
    with pytest.raises(ValueError, match="not readable back"):
        encode(action)


FORGED: list[object] = [
    "", " ", ":", "::", "r", "r:", "r:d", "r:d:", "r:d::", "r::1", ":d:1", "x:d:1", "R:d:1",
    "r:D:1", "rr:d:1", "r:zz:1", "r:d:1:", "r:d:1 ", " r:d:1", "r:d:1\n", "\nr:d:1",
    "r:d:1\x00", "r:d:+1", "r:d:-1", "r:d:1.0", "r:d:0x1", "r:d:1e0", "r:d:1?", "r:d:١",
    "r:d:１", "ｒ:d:1", "r:d:¹", "r:d:1234567890123", "r:d:" + "9" * 60, "r:d:" + "1" * 10_000,
    "x" * 100_000, "c:x:1", "c:waiting:1", "t:3h:1", "t:1H:1", "k:x:1", "k:s:-2",
    "e:1", "e:q:1", "e:p:1", "e:g:1", "e:p-1:1", "e:g-1:1", "e:pp1:1", "e:p1x:1",
    "e:p1234567890123:1", "e:g12345:1", "e:a:-1", "e:a:1:", "e:A:1", "E:a:1", "e:a:1\n",
    "r:d:1 OR 1=1", "c:w:1 UNION SELECT * FROM person", "' OR '1'='1", "%s%s%s%n", "{0}{1}",
    '{"action": "done", "id": 1}', "<script>alert(1)</script>", "../../../etc", "🙂:d:1",
    "l:", "l:e", "l:abcd", "l:zh-", "l:zh-Hans-", "l:zh_Hans", "l:en:1", "L:en", "l:en\n",
    "l: en", "l:../en", "l:zh-Hans-CN-x", "l:zh-abcdefghi", "l:ру", "l:en?", "l:" + "a" * 70,
    "r:✅:1", "\u202er:d:1", "r:d:1\u200b", "\ud800", "r:d:\udfff",
    None, b"r:d:1", 1, 1.5, ["r:d:1"], {"r": 1}, object(),
]  # fmt: skip


@pytest.mark.parametrize("data", FORGED, ids=range(len(FORGED)))
def test_forged_or_garbage_data_decodes_to_none(data: object) -> None:
    assert decode(data) is None


def _decoded(markup: dict[str, object] | None) -> list[Action]:
    """Every button of an inline keyboard, read back through the codec (each must be)."""
    assert markup is not None
    rows = markup["inline_keyboard"]
    assert isinstance(rows, list)
    found = []
    for row in rows:
        for button in row:
            action = decode(button["callback_data"])
            assert action is not None, button
            assert encode(action) == button["callback_data"]
            found.append(action)
    return found


def test_nudge_keyboard_buttons_go_through_the_codec() -> None:
    due = datetime(2026, 11, 17, 8, tzinfo=UTC)
    lines = [NudgeLine(11, 1, "Valve", "", due), NudgeLine(12, 2, "Pump", "", due, "late")]
    assert _decoded(keyboard("en", lines)) == [
        Answer(reply, occurrence) for occurrence in (11, 12) for reply in Reply
    ]


def test_reply_question_keyboards_go_through_the_codec() -> None:
    assert _decoded(category_keyboard("en", 8)) == [BlockCategory(c, 8) for c in Category]
    assert _decoded(later_keyboard("en", 8)) == [LaterTime(o, 8) for o in LaterOption]
    assert _decoded(skip_keyboard("en", 8)) == [SkipNote(8)]


def test_escalation_buttons_go_through_the_codec() -> None:
    for status, kinds in [("open", "axnr"), ("blocked", "axnrs")]:
        occ = Occurrence(id=21, duty_id=1, person_id=1, day=DAY, status=status)
        rows = notices._buttons("en", 1, occ)
        assert _decoded({"inline_keyboard": rows}) == [Lead(LeadKind(k), 21) for k in kinds]


def test_reassign_picker_and_its_pages_go_through_the_codec() -> None:
    occ = Occurrence(id=33, duty_id=1, person_id=1, day=DAY, number=1)
    people = [
        Person(id=100 + i, key=f"p{i}", name=f"Person {i}", unit_id=1, post="worker")
        for i in range(PAGE_SIZE * 3)
    ]
    params: dict[str, object] = {"number": 1, "title": "Pump", "name": "Walt"}
    _, markup = notices.reassign_page("en", occ, people, 2, params)
    shown = [Pick(100 + i, 33) for i in range(PAGE_SIZE, PAGE_SIZE * 2)]
    assert _decoded(markup) == [*shown, Page(1, 33), Page(3, 33)]


def test_language_buttons_go_through_the_codec() -> None:
    menu = language.menu("en")
    assert _decoded(menu.reply_markup) == [ChooseLanguage(lang) for lang in texts.languages()]


def test_no_button_data_is_written_outside_the_codec() -> None:
    """Any new keyboard has to go through ``bot.callbacks`` too."""
    sources = [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in sources
        if re.search(r"[\"']callback_data[\"']", path.read_text())
    ]
    assert writers == ["bot/callbacks.py"]
