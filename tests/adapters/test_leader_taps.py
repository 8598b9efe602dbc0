"""A leader's taps on an escalation (``e:`` buttons, handlers/replies.on_leader_tap): excuse
with a reason typed in reply, nudge again, reassign to a chosen person, "I'll handle it";
what each one shows the leader and the worker, what is stored, and the board after."""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import AuditEvent, Occurrence, Person
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, START, TL, W1, W2, W3, escalated


async def test_excuse_nudge_again_and_reassign(h: Harness) -> None:
    reading, pump = await escalated(h)

    # Excuse, with the reason typed in reply to the bot's question.
    mark = await h.last_id(TL)
    await h.people.tap(TL, pump["message_id"], label="1 Excuse")
    await h.toast(TL, "Reply with the reason")
    ask = await h.message(TL, r"Why is 1\. Service the pump of Wanda Two excused\?", after=mark)
    await h.people.reply_to(TL, ask["message_id"], "the pump is being replaced today")
    await h.message(TL, r"^Excused: 1\. Service the pump of Wanda Two\.$", after=mark)
    await h.message(W2, r"^Tina Lead excused 1\. Service the pump: the pump is being replaced")
    edited = [m for m in await h.messages(TL) if m["message_id"] == pump["message_id"]]
    assert "excused by Tina Lead" in edited[0]["text"]

    # Nudge again: Willy gets the duty again, with its buttons.
    seen = len(await h.toasts(TL))
    await h.people.tap(TL, reading["message_id"], label="1 Nudge again")
    await h.toast(TL, "Sent Willy One the duty again", seen)
    again = await h.message(W1, r"^Tina Lead asks again about 1\. Read the meters \(due 07:20\)")
    assert "1 ✅ Done" in [b["text"] for row in again["buttons"] for b in row]

    # Reassign to Victor, who gets it as a nudge.
    mark = await h.last_id(TL)
    await h.people.tap(TL, reading["message_id"], label="1 Reassign")
    await h.toast(TL, "Choose a person")
    choose = await h.message(TL, r"^Reassign 1\. Read the meters of Willy One to:", after=mark)
    seen = len(await h.toasts(TL))
    await h.people.tap(TL, choose["message_id"], label="Victor Three")
    await h.toast(TL, "Reassigned 1. Read the meters to Victor Three; they get it now", seen)
    await h.run_pass("nudges")  # the next tick sends the reassigned duty
    nudge = await h.message(W3, NUDGE)
    assert "Read the meters" in nudge["text"]

    # The board after: one excused, Willy's item gone to Victor.
    mark = await h.last_id(TL)
    await h.people.send_command(TL, "team")
    board = (await h.message(TL, r"^Today, Tue, Nov 17:", after=mark))["text"]
    assert "Team: ✅ 0 · ⛔ 0 · 🕒 0 · excused 1 · absent 0 · no reply 5" in board
    assert "Willy One" not in board and "Wanda Two" not in board

    with h.session() as session:
        kinds = [e.kind for e in session.exec(select(AuditEvent)).all()]
        assert kinds.count("occurrence.excused") == 1
        assert kinds.count("escalation.renudged") == 1
        assert kinds.count("occurrence.reassigned") == 1
        rows = session.exec(
            select(Occurrence, Person.key).join(Person, col(Person.id) == col(Occurrence.person_id))
        ).all()
        statuses = {(key, o.duty_id): o.status for o, key in rows if o.day == START.date()}
    assert {k: v for k, v in statuses.items() if k[0] in ("w1", "w2", "w3")} == {
        ("w1", 1): "reassigned",
        ("w2", 2): "excused",
        ("w3", 1): "open",
    }
    assert (await h.texts(W1)).count(
        "Tina Lead asks again about 1. Read the meters (due 07:20)."
    ) == 1
    assert (await h.people.counters())["unanswered_callback_queries"] == 0


async def test_ill_handle_it_takes_the_item(h: Harness) -> None:
    reading, _ = await escalated(h)
    await h.people.tap(TL, reading["message_id"], label="1 I'll handle it")
    await h.toast(
        TL, r"^You took 1\. Read the meters of Willy One\. If it is not resolved within 1 hour"
    )
    with h.session() as session:
        tina = session.exec(select(Person).where(Person.key == "tl")).one()
        today = select(Occurrence).where(Occurrence.duty_id == 1, Occurrence.day == START.date())
        occ = session.exec(today).one()
    assert occ.acked_by == tina.id
    await h.settle()  # the edit follows the answer, through the outbox
    edited = [m for m in await h.messages(TL) if m["message_id"] == reading["message_id"]]
    assert edited[0]["text"].endswith("1) Willy One — 1. Read the meters: taken by Tina Lead")
