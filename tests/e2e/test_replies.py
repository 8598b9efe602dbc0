"""Replies end to end: a worker taps Done, Blocked (category and note), Later (typed time),
sends the photo a duty requires, changes an answer, and is refused after the grace. The
database holds exactly the expected replies and audit events; the nudge shows every edit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot.store import org
from models.tables import AuditEvent, Occurrence, Reply
from tests.e2e.harness import World, world

WORKER, LEADER = 801, 802
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)

ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "lead"

[[people]]
key = "lead"
name = "Lea Leader"
unit = "plant"
post = "manager"

[[people]]
key = "wor"
name = "Walt Worker"
unit = "plant"
post = "operator"

[[duties]]
key = "valve"
title = "Close the valve"
assignee = "wor"
nudge = "07:00"
due = "09:00"

[[duties]]
key = "pump"
title = "Fix the pump"
assignee = "wor"
nudge = "07:00"
due = "09:00"

[[duties]]
key = "filter"
title = "Clean the filter"
assignee = "wor"
nudge = "07:00"
due = "09:00"

[[duties]]
key = "safety"
title = "Photograph the guard rail"
assignee = "wor"
nudge = "07:00"
due = "09:00"
evidence = "photo"
"""


def bot_messages(w: World, chat: int) -> list[dict[str, Any]]:
    return [m for m in w.messages(chat) if m["from"] == "bot"]


def toasts(w: World, chat: int) -> list[str]:
    return [
        e.get("text") or "" for e in w.client.transcript(chat) if e["kind"] == "callback_answer"
    ]


def latest(w: World, chat: int, contains: str) -> dict[str, Any]:
    return w.wait(
        f"a message with {contains!r}",
        lambda: next(
            (m for m in reversed(bot_messages(w, chat)) if contains in (m["text"] or "")), None
        ),
    )


def setup(w: World, clock: str) -> dict[str, Any]:
    w.write_config('[replies]\ngrace = "1h"\n')
    (w.root / "org.toml").write_text(ORG)
    w.execbot("org", "import", str(w.root / "org.toml"))
    bot = w.start_bot(EXECBOT_CLOCK_START=clock)
    w.wait_ready(bot)
    w.client.create_person("Walt", id=WORKER)
    link = w.execbot("invite", "wor").stdout.split("\t")[2]
    w.client.send_command(WORKER, "start", link.split("=", 1)[1])
    return latest(w, WORKER, "your duties for")


def test_every_kind_of_answer_is_stored_and_shown(tmp_path: Path) -> None:
    with world(tmp_path) as w:
        nudge = setup(w, "2026-11-17T06:59:55+01:00")
        nudge_id = nudge["message_id"]

        # Done, one tap.
        w.client.tap(WORKER, nudge_id, label="1 ✅ Done")
        w.wait("done toast", lambda: "Recorded: 1. Close the valve is done." in toasts(w, WORKER))
        # Blocked: a category, then a note in reply to the question.
        w.client.tap(WORKER, nudge_id, label="2 ⛔ Blocked")
        ask = latest(w, WORKER, "Why is 2. Fix the pump blocked?")
        w.client.tap(WORKER, ask["message_id"], label="Materials, tools, equipment")
        w.wait(
            "blocked toast",
            lambda: (
                "Recorded: 2. Fix the pump is blocked (Materials, tools, equipment)."
                in toasts(w, WORKER)
            ),
        )
        note_ask = latest(w, WORKER, "Add a short note")
        w.client.reply_to(WORKER, note_ask["message_id"], "the spare valve is missing")
        latest(w, WORKER, "Note added to 2. Fix the pump.")
        # Later, with a typed time.
        w.client.tap(WORKER, nudge_id, label="3 🕒 Later")
        latest(w, WORKER, "By when will 3. Clean the filter be done?")
        w.client.send_text(WORKER, "15:30")
        latest(w, WORKER, "Recorded: 3. Clean the filter will be done by 15:30.")
        # Done with evidence: text is refused, the photo closes it.
        w.client.tap(WORKER, nudge_id, label="4 ✅ Done")
        latest(w, WORKER, "Send a photo as evidence for 4. Photograph the guard rail")
        w.client.send_text(WORKER, "it is fine, trust me")
        latest(w, WORKER, "I need a photo for 4. Photograph the guard rail.")
        w.client.send_photo(WORKER, PNG, filename="rail.png")
        latest(w, WORKER, "Recorded: 4. Photograph the guard rail is done.")
        # A change of mind by typed reply, and a repeat that changes nothing.
        w.client.send_text(WORKER, "done 3")
        latest(w, WORKER, "Recorded: 3. Clean the filter is done.")
        w.client.send_text(WORKER, "done 1")
        latest(w, WORKER, "Already recorded as ✅ done.")

        final = w.wait(
            "the nudge edited to its final state",
            lambda: next(
                (
                    m
                    for m in bot_messages(w, WORKER)
                    if m["message_id"] == nudge_id
                    and "blocked" in m["text"]
                    and m["text"].count("✅ done") == 3
                ),
                None,
            ),
        )
        assert "1. Close the valve (due 09:00) — ✅ done" in final["text"]
        assert "2. Fix the pump (due 09:00) — ⛔ blocked" in final["text"]
        assert "4. Photograph the guard rail (due 09:00) — ✅ done" in final["text"]
        assert final["edit_count"] == 5  # the note changed nothing visible: no edit

        with Session(w.engine) as session:
            worker = org.person_by_key(session, "wor")
            assert worker is not None
            replies = session.exec(select(Reply).order_by(col(Reply.id))).all()
            numbers = {o.id: o.number for o in session.exec(select(Occurrence)).all()}
            summary = [
                (numbers[r.occurrence_id], r.kind, r.category, r.text, r.via) for r in replies
            ]
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
            today = select(Occurrence).where(Occurrence.day == date(2026, 11, 17))
            statuses = {o.number: o.status for o in session.exec(today).all()}
            assert statuses == {1: "done", 2: "blocked", 3: "done", 4: "done"}
            events = session.exec(
                select(AuditEvent).where(AuditEvent.kind == "reply.recorded")
            ).all()
            assert [(e.data["from"], e.data["to"]) for e in events] == [
                ("open", "done"), ("open", "blocked"), ("blocked", "blocked"),
                ("open", "late"), ("open", "done"), ("late", "done"),
            ]  # fmt: skip
            assert all(e.actor_person_id == worker.id for e in events)
        assert w.client.counters()["unanswered_callback_queries"] == 0


def test_answers_are_refused_after_the_grace(tmp_path: Path) -> None:
    with world(tmp_path) as w:
        nudge = setup(w, "2026-11-17T06:59:55+01:00")
        w.client.tap(WORKER, nudge["message_id"], label="1 ✅ Done")
        w.wait("done toast", lambda: any("is done" in t for t in toasts(w, WORKER)))
        w.bots[-1].stop()
        # Restarted after due (09:00) + grace (1h).
        bot = w.start_bot(EXECBOT_CLOCK_START="2026-11-17T10:00:30+01:00")
        w.wait_ready(bot)
        w.client.tap(WORKER, nudge["message_id"], label="1 ⛔ Blocked")
        w.wait(
            "refusal",
            lambda: any("too late to change" in t and "Lea Leader" in t for t in toasts(w, WORKER)),
        )
        w.client.send_text(WORKER, "done 2")
        latest(w, WORKER, "It is too late to change this answer")
        with Session(w.engine) as session:
            assert [(r.kind, r.via) for r in session.exec(select(Reply)).all()] == [
                ("done", "button")
            ]
