"""What no other handler takes (handlers/fallback.py, and files in handlers/replies.on_file):
unknown text, an unknown command, a file nobody asked for, a sticker or a location; a stranger
gets the polite refusal instead. Nothing is stored."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from models.tables import AuditEvent, Reply
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, WALT, morning
from tests.adapters.test_replies import PNG

STRANGER = 6002
STICKER = {
    "file_id": "CAACAgIAAxkBAAEBsticker",
    "file_unique_id": "AgADsticker",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}
UNSUPPORTED = "I can only read text, photos and documents. Send /help to see what you can do."
NOT_EXPECTED = "I was not expecting a file. To send evidence, tap Done on the duty first."


async def test_what_the_bot_does_not_read_gets_a_pointer_and_stores_nothing(h: Harness) -> None:
    await morning(h)
    await h.message(WALT, NUDGE)
    with h.session() as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    await h.people.send_text(WALT, "hello bot")
    await h.people.send_command(WALT, "frobnicate")
    await h.people.send_document(WALT, PNG, filename="plan.pdf", mime_type="application/pdf")
    await h.people.send_photo(WALT, PNG, filename="selfie.png")
    h.push_message(WALT, sticker=STICKER)  # the person API sends no stickers
    h.push_message(WALT, location={"latitude": 48.1, "longitude": 11.6})
    await h.settle()

    answers = (await h.texts(WALT))[1:]
    assert len(answers) == 6, answers
    assert "didn't understand" in answers[0]
    assert "don't know that command" in answers[1]
    assert answers[2:] == [NOT_EXPECTED, NOT_EXPECTED, UNSUPPORTED, UNSUPPORTED]
    with h.session() as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
        assert session.exec(select(Reply)).all() == []


async def test_a_stranger_is_refused_whatever_they_send(h: Harness) -> None:
    await h.start_bot()
    await h.people.create_person("Eve", id=STRANGER, started=True)
    await h.people.send_text(STRANGER, "done 1")
    await h.people.send_command(STRANGER, "today")
    await h.people.send_command(STRANGER, "frobnicate")
    h.push_message(STRANGER, sticker=STICKER)
    await h.settle()
    texts = await h.texts(STRANGER)
    # One refusal a minute per stranger: the rest are dropped (a flood costs no sends).
    assert len(texts) == 1 and "I don't know you yet" in texts[0], texts
