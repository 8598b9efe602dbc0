"""Replies hardened (issue 10), in-process with the sandbox's Bot API latency: a pending
question takes the next text first, even one that begins with done, blocked or later (item 10);
a "later" is bounded and times on another day carry their date (item 15); photo evidence must be
an image by its content, and evidence files are the owner's only (item 16). Item 6 (a redelivery
after a kill) stays in tests/e2e/test_reply_hardening.py: its subject is the killed process."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from models.tables import AuditEvent, Occurrence, Reply
from tests.adapters.harness import Harness, harness
from tests.adapters.org import CHATS, CONFIG, NUDGE, ORG, START, TL, W1, WALT, morning

LATENCY = (0.1, 0.3)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


@pytest.fixture
async def slow(tmp_path: Path, template_db: Path) -> AsyncIterator[Harness]:
    """The org, everyone but Gus bound, evidence kept under tmp_path/evidence, and the Bot
    API's latency; the bot started and the morning's nudges sent."""
    evidence = f'evidence_dir = "{(tmp_path / "evidence").as_posix()}"\n'
    extra = CONFIG.replace("[replies]\n", "[replies]\n" + evidence, 1)
    async with harness(tmp_path, template_db, START, config_extra=extra, latency=LATENCY) as h:
        h.import_org(ORG)
        await h.bind(CHATS)
        await morning(h)
        yield h
        assert not h.errors.records, h.errors.records


def replies(h: Harness) -> list[tuple[int, str, str | None, str | None, str]]:
    """Every stored reply: (list number, kind, category, text, via), in order."""
    with h.session() as session:
        numbers = {o.id: o.number for o in session.exec(select(Occurrence)).all()}
        rows = session.exec(select(Reply).order_by(col(Reply.id))).all()
        return [(numbers[r.occurrence_id], r.kind, r.category, r.text, r.via) for r in rows]


async def test_item10_a_pending_question_takes_the_next_text_first(slow: Harness) -> None:
    h = slow
    nudge_id = (await h.message(WALT, NUDGE))["message_id"]

    # A block note that begins with "blocked" is the note.
    await h.people.tap(WALT, nudge_id, label="2 ⛔ Blocked")
    ask = await h.message(WALT, r"Why is 2\. Fix the pump blocked\?")
    await h.people.tap(WALT, ask["message_id"], label="Materials or tools")
    note = await h.message(WALT, "Add a short note")
    await h.people.reply_to(WALT, note["message_id"], "Blocked by the broken forklift")
    await h.message(WALT, r"^Note added to 2\. Fix the pump\.$", after=note["message_id"])

    # "Later": text that is no time and no typed reply gets the question's own answer and the
    # question stays; a time then answers it.
    await h.people.tap(WALT, nudge_id, label="3 🕒 Later")
    ask = await h.message(WALT, r"By when will 3\. Clean the filter be done\?")
    await h.people.send_text(WALT, "later, after lunch")
    await h.message(WALT, "I could not read that as a time", after=ask["message_id"])
    await h.people.send_text(WALT, "15:30")
    await h.message(WALT, r"^Recorded: 3\. Clean the filter will be done by 15:30\.$")

    # A complete typed reply that cannot answer the question is read as the typed reply, and
    # closes the question.
    await h.people.tap(WALT, nudge_id, label="4 ✅ Done")
    ask = await h.message(WALT, r"Send a photo as evidence for 4\. Photograph the guard rail")
    await h.people.send_text(WALT, "done 1")
    await h.message(WALT, r"^Recorded: 1\. Close the valve is done\.$", after=ask["message_id"])
    mark = await h.last_id(WALT)
    await h.people.send_photo(WALT, PNG, filename="rail.png")
    await h.message(WALT, "I was not expecting a file", after=mark)

    # Meanwhile Willy's silent item reaches the leader, whose excuse reason begins with "Done":
    # it is the reason, not a typed reply.
    h.clock.advance(minutes=26)
    await h.run_pass("escalation")
    item = await h.message(TL, r"Willy One — 1\. Read the meters: no answer")
    await h.people.tap(TL, item["message_id"], label="1 Excuse")
    ask = await h.message(TL, r"Why is 1\. Read the meters of Willy One excused\?")
    await h.people.reply_to(TL, ask["message_id"], "Done by the night shift already")
    await h.message(TL, r"^Excused: 1\. Read the meters of Willy One\.$", after=ask["message_id"])
    await h.message(W1, r"excused 1\. Read the meters: Done by the night shift already")

    assert replies(h) == [
        (2, "blocked", "materials", None, "button"),
        (2, "blocked", "materials", "Blocked by the broken forklift", "text"),
        (3, "later", None, None, "text"),
        (1, "done", None, None, "command"),
    ]
    with h.session() as session:
        excused = session.exec(
            select(AuditEvent).where(AuditEvent.kind == "occurrence.excused")
        ).one()
        assert excused.data["reason"] == "Done by the night shift already"
    texts = await h.texts(WALT) + await h.texts(TL)
    assert not any("Which duty?" in t for t in texts)


async def test_item15_later_is_bounded_and_other_days_show_their_date(slow: Harness) -> None:
    h = slow
    nudge = await h.message(WALT, NUDGE)
    mark = await h.last_id(WALT)
    await h.people.send_text(WALT, "later 1 +99999d")
    await h.message(
        WALT,
        r"^That is too far ahead: a new time can be at most 7 days away "
        r"\(until Tue, Nov 24 07:00\)\.",
        after=mark,
    )
    assert replies(h) == []

    # Through the question too: too far is refused, and the question stays.
    await h.people.tap(WALT, nudge["message_id"], label="2 🕒 Later")
    ask = await h.message(WALT, r"By when will 2\. Fix the pump be done\?")
    await h.people.send_text(WALT, "+8d")
    await h.message(WALT, "That is too far ahead", after=ask["message_id"])
    await h.people.send_text(WALT, "+2d")
    await h.message(WALT, r"^Recorded: 2\. Fix the pump will be done by Thu, Nov 19 07:00\.$")
    await h.people.send_text(WALT, "later 1 +7d")
    await h.message(WALT, r"^Recorded: 1\. Close the valve will be done by Tue, Nov 24 07:00\.$")

    async def edited() -> str | None:
        for m in await h.messages(WALT):
            if m["message_id"] == nudge["message_id"] and "Nov 24" in m["text"]:
                return str(m["text"])
        return None

    text = await h.until("the nudge shows both dates", edited)
    assert "2. Fix the pump (due 09:00) — 🕒 later, by Thu, Nov 19 07:00" in text
    assert "1. Close the valve (due 09:00) — 🕒 later, by Tue, Nov 24 07:00" in text

    mark = await h.last_id(TL)
    await h.people.send_command(TL, "team")
    board = (await h.message(TL, r"^Today, Tue, Nov 17:", after=mark))["text"]
    assert "Walt Worker — 2. Fix the pump: 🕒 later, by Thu, Nov 19 07:00" in board
    with h.session() as session:
        rows = session.exec(select(Reply)).all()
        ahead = [r.new_due_at - r.created_at for r in rows if r.new_due_at is not None]
        assert ahead == [timedelta(days=2), timedelta(days=7)]


async def test_item16_photo_evidence_is_an_image_by_content_and_files_are_private(
    slow: Harness, tmp_path: Path
) -> None:
    h = slow
    nudge = await h.message(WALT, NUDGE)
    await h.people.tap(WALT, nudge["message_id"], label="4 ✅ Done")
    ask = await h.message(WALT, r"Send a photo as evidence for 4\. Photograph the guard rail")

    # An executable named like a photo: refused by its content, nothing stored or kept.
    await h.people.send_document(WALT, EXE, filename="rail.jpg", mime_type="image/jpeg")
    refusal = await h.message(WALT, "not a photo", after=ask["message_id"])
    assert refusal["text"] == (
        "That file is not a photo (JPEG, PNG, WebP or HEIC); nothing was recorded. "
        "Send a photo for 4. Photograph the guard rail."
    )
    assert replies(h) == []
    evidence = tmp_path / "evidence"
    assert not evidence.exists() or not any(evidence.iterdir())

    # A real PNG sent as a document, named .exe: accepted, kept as .png, owner-only.
    await h.people.send_document(WALT, PNG, filename="rail.exe")
    await h.message(WALT, r"^Recorded: 4\. Photograph the guard rail is done\.$")
    assert replies(h) == [(4, "done", None, None, "document")]
    with h.session() as session:
        path = session.exec(select(Reply)).one().evidence_path
    assert path is not None
    kept = Path(path)
    assert kept.parent == evidence and kept.suffix == ".png"
    assert kept.read_bytes() == PNG
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o700
    assert [p.name for p in evidence.iterdir()] == [kept.name]
