"""Leader actions end to end, through the sandbox: two silent duties reach the team leader, who
looks at ``/team`` and ``/overdue``, excuses one with a reason typed in reply to the bot's
question, nudges the other's worker again and then reassigns it to a third worker, who gets it
as a nudge. A worker is refused the board. Policies are in seconds; no restarts."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import AuditEvent, Occurrence, Person
from tests.e2e.harness import World, world

W1, W2, W3, TL, WH = 911, 912, 913, 914, 915
START = "2026-11-17T06:59:58+01:00"  # a Tuesday; the nudges are due two seconds in

ORG = """
[[units]]
key = "shop"
name = "Workshop"
kind = "workshop"
leader = "wh"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "shop"
leader = "tl"

[[people]]
key = "wh"
name = "Walter Head"
unit = "shop"
post = "workshop head"

[[people]]
key = "tl"
name = "Tina Lead"
unit = "team"
post = "team leader"

[[people]]
key = "w1"
name = "Willy One"
unit = "team"
post = "operator"

[[people]]
key = "w2"
name = "Wanda Two"
unit = "team"
post = "operator"

[[people]]
key = "w3"
name = "Victor Three"
unit = "team"
post = "operator"

[[duties]]
key = "reading"
title = "Read the meters"
assignee = "w1"
nudge = "07:00"
due = "+20s"

[[duties]]
key = "pump"
title = "Service the pump"
assignee = "w2"
nudge = "07:00"
due = "+20s"
"""

CONFIG = """
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [
  { after = "2s", notify = "next" },
  { after = "1h", notify = "next" },
]
ack_timeout = "1h"
"""


def bot_texts(w: World, chat: int) -> list[str]:
    return [m["text"] or "" for m in w.messages(chat) if m["from"] == "bot"]


def message(w: World, chat: int, pattern: str, after: int = 0) -> dict[str, Any]:
    return w.bot_message(chat, pattern, after)


def toast(w: World, chat: int, pattern: str) -> str:
    return str(
        w.wait(
            f"toast {pattern!r}",
            lambda: next(
                (
                    e["text"]
                    for e in w.client.transcript(chat)
                    if e["kind"] == "callback_answer" and re.search(pattern, e.get("text") or "")
                ),
                None,
            ),
            timeout=20,
        )
    )


def last_id(w: World, chat: int) -> int:
    return max((m["message_id"] for m in w.messages(chat)), default=0)


def test_excuse_nudge_again_reassign_and_the_board(tmp_path: Path) -> None:
    with world(tmp_path) as w:
        w.write_config(CONFIG)
        (tmp_path / "org.toml").write_text(ORG)
        w.execbot("org", "import", str(tmp_path / "org.toml"))
        chats = {"w1": W1, "w2": W2, "w3": W3, "tl": TL, "wh": WH}
        for key, chat in chats.items():
            w.client.create_person(key, id=chat, started=True)
        with Session(w.engine) as session:
            for key, chat in chats.items():
                session.execute(
                    update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
                )
            session.commit()
        w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=START))

        # Both workers are nudged and stay silent: the team leader gets both items.
        message(w, W1, "your duties for")
        message(w, W2, "your duties for")
        reading = message(w, TL, r"Willy One — 1\. Read the meters: no answer")
        pump = message(w, TL, r"Wanda Two — 1\. Service the pump: no answer")

        # The board, as the leader; a worker is refused it.
        mark = last_id(w, TL)
        w.client.send_command(TL, "team")
        board = message(w, TL, r"^Today, Tue 17 Nov:", after=mark)["text"]
        assert "Team: ✅ 0 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 2" in board
        assert "• Willy One — 1. Read the meters: open, unowned" in board
        assert "• Wanda Two — 1. Service the pump: open, unowned" in board
        w.client.send_command(TL, "overdue")
        overdue = message(w, TL, r"^Past due and unowned:", after=mark)["text"]
        assert overdue.count("unowned") == 3  # the header and both items
        mark_w1 = last_id(w, W1)
        w.client.send_command(W1, "team")
        message(w, W1, r"^Sorry, that is only for leaders\.$", after=mark_w1)
        w.client.send_command(W1, "overdue")
        w.wait(
            "both refusals", lambda: bot_texts(w, W1).count("Sorry, that is only for leaders.") == 2
        )

        # Excuse, with the reason typed in reply to the bot's question.
        mark = last_id(w, TL)
        w.client.tap(TL, pump["message_id"], label="1 Excuse")
        toast(w, TL, "Reply with the reason")
        ask = message(w, TL, r"Why is 1\. Service the pump of Wanda Two excused\?", after=mark)
        w.client.reply_to(TL, ask["message_id"], "the pump is being replaced today")
        message(w, TL, r"^Excused: 1\. Service the pump of Wanda Two\.$", after=mark)
        message(w, W2, r"^Tina Lead excused 1\. Service the pump: the pump is being replaced")
        w.wait(
            "the leader's item shows the excuse",
            lambda: any(
                m["message_id"] == pump["message_id"]
                and "excused by Tina Lead" in (m["text"] or "")
                for m in w.messages(TL)
            ),
        )

        # Nudge again: Willy gets the duty again, with its buttons.
        w.client.tap(TL, reading["message_id"], label="1 Nudge again")
        toast(w, TL, "Sent Willy One the duty again")
        again = message(w, W1, r"^Tina Lead asks again about 1\. Read the meters \(due 07:00\)")
        labels = [b["text"] for row in again["reply_markup"]["inline_keyboard"] for b in row]
        assert "1 ✅ Done" in labels

        # Reassign to Victor, who gets it as a nudge.
        mark = last_id(w, TL)
        w.client.tap(TL, reading["message_id"], label="1 Reassign")
        toast(w, TL, "Choose a person")
        choose = message(w, TL, r"^Reassign 1\. Read the meters of Willy One to:", after=mark)
        w.client.tap(TL, choose["message_id"], label="Victor Three")
        toast(w, TL, "Reassigned 1. Read the meters to Victor Three; they get it now")
        nudge = message(w, W3, "your duties for")
        assert "Read the meters" in nudge["text"]

        # The board after: one excused, Willy's item gone to Victor.
        mark = last_id(w, TL)
        w.client.send_command(TL, "team")
        board = message(w, TL, r"^Today, Tue 17 Nov:", after=mark)["text"]
        assert "Team: ✅ 0 · ⛔ 0 · 🕒 0 · excused 1 · absent 0 · no reply 1" in board
        assert "Willy One" not in board and "Wanda Two" not in board

        with Session(w.engine) as session:
            kinds = [e.kind for e in session.exec(select(AuditEvent)).all()]
            assert kinds.count("occurrence.excused") == 1
            assert kinds.count("escalation.renudged") == 1
            assert kinds.count("occurrence.reassigned") == 1
            rows = session.exec(
                select(Occurrence, Person.key).join(
                    Person, col(Person.id) == col(Occurrence.person_id)
                )
            ).all()
            today = datetime.fromisoformat(START).date()
            statuses = {(key, o.duty_id): o.status for o, key in rows if o.day == today}
            assert statuses == {
                ("w1", 1): "reassigned",
                ("w2", 2): "excused",
                ("w3", 1): "open",
            }
        assert (
            bot_texts(w, W1).count("Tina Lead asks again about 1. Read the meters (due 07:00).")
            == 1
        )
        assert w.client.counters()["unanswered_callback_queries"] == 0
