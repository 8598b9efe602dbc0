"""A worker's answers (handlers/replies.py: on_tap, on_text, on_file): Done, Blocked with a
category and a note, Later with a typed time, a photo as evidence, a typed change of mind; and
the refusal after the grace. What the person sees (toasts, questions, the edited nudge) and the
replies and audit events stored."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from bot.store import org
from models.tables import AuditEvent, Occurrence, Reply
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, START, WALT, morning

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_every_kind_of_answer_is_stored_and_shown(h: Harness) -> None:
    await morning(h)
    nudge_id = (await h.message(WALT, NUDGE))["message_id"]

    await h.people.tap(WALT, nudge_id, label="1 ✅ Done")
    await h.toast(WALT, r"^Recorded: 1\. Close the valve is done\.$")
    await h.people.tap(WALT, nudge_id, label="2 ⛔ Blocked")
    ask = await h.message(WALT, r"Why is 2\. Fix the pump blocked\?")
    await h.people.tap(WALT, ask["message_id"], label="Materials or tools")
    await h.toast(WALT, r"Recorded: 2\. Fix the pump is blocked \(Materials or tools\)")
    note_ask = await h.message(WALT, "Add a short note")
    await h.people.reply_to(WALT, note_ask["message_id"], "the spare valve is missing")
    await h.message(WALT, r"Note added to 2\. Fix the pump\.")
    await h.people.tap(WALT, nudge_id, label="3 🕒 Later")
    await h.message(WALT, r"By when will 3\. Clean the filter be done\?")
    await h.people.send_text(WALT, "15:30")
    await h.message(WALT, r"Recorded: 3\. Clean the filter will be done by 15:30\.")
    await h.people.tap(WALT, nudge_id, label="4 ✅ Done")
    await h.message(WALT, r"Send a photo as evidence for 4\. Photograph the guard rail")
    await h.people.send_text(WALT, "it is fine, trust me")
    await h.message(WALT, r"I need a photo for 4\. Photograph the guard rail\.")
    await h.people.send_photo(WALT, PNG, filename="rail.png")
    await h.message(WALT, r"Recorded: 4\. Photograph the guard rail is done\.")
    await h.people.send_text(WALT, "done 3")
    await h.message(WALT, r"Recorded: 3\. Clean the filter is done\.")
    await h.people.send_text(WALT, "done 1")
    await h.message(WALT, r"Already recorded as ✅ done\.")
    await h.settle()

    [final] = [m for m in await h.messages(WALT) if m["message_id"] == nudge_id]
    assert final["text"].splitlines()[1:] == [
        "1. Close the valve (due 09:00) — ✅ done",
        "2. Fix the pump (due 09:00) — ⛔ blocked",
        "3. Clean the filter (due 09:00) — ✅ done",
        "4. Photograph the guard rail (due 09:00) — ✅ done",
    ]
    assert final["edit_count"] == 5  # the note changed nothing visible: no edit
    with h.session() as session:
        replies = session.exec(select(Reply).order_by(col(Reply.id))).all()
        numbers = {o.id: o.number for o in session.exec(select(Occurrence)).all()}
        summary = [(numbers[r.occurrence_id], r.kind, r.category, r.text, r.via) for r in replies]
        assert summary == [
            (1, "done", None, None, "button"),
            (2, "blocked", "materials", None, "button"),
            (2, "blocked", "materials", "the spare valve is missing", "text"),
            (3, "later", None, None, "text"),
            (4, "done", None, None, "photo"),
            (3, "done", None, None, "command"),
        ]
        assert replies[3].new_due_at is not None
        assert replies[3].new_due_at.isoformat() == "2026-11-17T14:30:00+00:00"
        assert replies[4].evidence_file_id
        walt = org.person_by_key(session, "walt")
        assert walt is not None
        today = select(Occurrence).where(
            Occurrence.day == date(2026, 11, 17), Occurrence.person_id == walt.id
        )
        statuses = {o.number: o.status for o in session.exec(today).all()}
        assert statuses == {1: "done", 2: "blocked", 3: "done", 4: "done"}
        events = session.exec(select(AuditEvent).where(AuditEvent.kind == "reply.recorded")).all()
        assert [(e.data["from"], e.data["to"]) for e in events] == [
            ("open", "done"), ("open", "blocked"), ("blocked", "blocked"),
            ("open", "late"), ("open", "done"), ("late", "done"),
        ]  # fmt: skip
        assert all(e.actor_person_id == walt.id for e in events)
    assert (await h.people.counters())["unanswered_callback_queries"] == 0


async def test_answers_are_refused_after_the_grace(h: Harness) -> None:
    await morning(h)
    nudge_id = (await h.message(WALT, NUDGE))["message_id"]
    await h.people.tap(WALT, nudge_id, label="1 ✅ Done")
    await h.toast(WALT, "is done")
    h.clock.set(START + timedelta(hours=3, seconds=30))  # after due (09:00) + grace (1h)
    await h.people.tap(WALT, nudge_id, label="1 ⛔ Blocked")
    await h.toast(WALT, "too late to change.*Tina Lead")
    await h.people.send_text(WALT, "done 2")
    await h.message(WALT, "It is too late to change this answer")
    with h.session() as session:
        assert [(r.kind, r.via) for r in session.exec(select(Reply)).all()] == [("done", "button")]
