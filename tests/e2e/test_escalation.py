"""Escalation end to end, with a three-level tree (team, workshop, plant) and policies in
seconds: silence climbs to the team leader then the workshop head; "I'll handle it" stops the
climb until the ack timeout, then it climbs on; a block reaches the leader at once and
"Resolved" tells the worker and the workshop head; a worker cannot act on an escalation. The
bot is restarted between every two steps, and every message still arrives exactly once."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import AuditEvent, Occurrence, Person
from tests.e2e.harness import World, world

W1, W2, TL, WH, PM = 901, 902, 903, 904, 905
START = datetime.fromisoformat("2026-11-17T06:59:50+01:00")

ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "pm"

[[units]]
key = "shop"
name = "Workshop"
kind = "workshop"
parent = "plant"
leader = "wh"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "shop"
leader = "tl"

[[people]]
key = "pm"
name = "Paula Manager"
unit = "plant"
post = "plant manager"

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
due = "+10m"
"""

CONFIG = """
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [
  { after = "8s", notify = "next" },
  { after = "20s", notify = "next" },
  { after = "120s", notify = "next" },
]
ack_timeout = "120s"
"""


class Clock:
    """The virtual clock runs on across restarts (each bot starts where the last one was), or
    jumps ahead to a chosen instant, as if the bot had been down until then."""

    def __init__(self) -> None:
        self.start, self.origin = START, time.monotonic()

    def now(self) -> str:
        return (self.start + timedelta(seconds=time.monotonic() - self.origin)).isoformat()

    def jump(self, to: datetime) -> None:
        """Never backwards: a clock that went back would replay what already happened."""
        now = datetime.fromisoformat(self.now())
        self.start, self.origin = max(to, now), time.monotonic()


def texts(w: World, chat: int) -> list[str]:
    return [m["text"] or "" for m in w.messages(chat) if m["from"] == "bot"]


def count(w: World, chat: int, pattern: str) -> int:
    return sum(1 for t in texts(w, chat) if re.search(pattern, t))


def message(w: World, chat: int, pattern: str) -> dict[str, Any]:
    return w.bot_message(chat, pattern, timeout=60)


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
            timeout=30,
        )
    )


def restart(w: World, clock: Clock, at: datetime | None = None) -> None:
    w.bots[-1].stop()
    if at is not None:
        clock.jump(at)
    bot = w.start_bot(EXECBOT_CLOCK_START=clock.now())
    w.wait_ready(bot)


def test_silence_and_blocks_climb_until_owned(tmp_path: Path) -> None:
    with world(tmp_path) as w:
        w.write_config(CONFIG)
        (tmp_path / "org.toml").write_text(ORG)
        w.execbot("org", "import", str(tmp_path / "org.toml"))
        ids = {"w1": W1, "w2": W2, "tl": TL, "wh": WH, "pm": PM}
        for key, chat in ids.items():
            w.client.create_person(key, id=chat, started=True)
        with Session(w.engine) as session:
            for key, chat in ids.items():
                session.execute(
                    update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
                )
            session.commit()
        clock = Clock()
        w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=clock.now()))

        # Both workers are nudged; Wanda reports a block: her team leader hears at once.
        nudge2 = message(w, W2, "your duties for")
        message(w, W1, "your duties for")
        w.client.tap(W2, nudge2["message_id"], label="1 ⛔ Blocked")
        ask = message(w, W2, "Why is 1. Service the pump blocked")
        w.client.tap(W2, ask["message_id"], label="Waiting on others / process")
        block_for_tl = message(
            w, TL, r"Wanda Two — 1\. Service the pump: ⛔ blocked \(Waiting on others / process\)"
        )
        restart(w, clock, at=START + timedelta(seconds=39))  # level 1 of the silence: 07:00:28

        # Silence: Willy's duty climbs to the team leader, then the workshop head.
        silence_tl = message(w, TL, r"Willy One — 1\. Read the meters: no answer")
        restart(w, clock, at=START + timedelta(seconds=51))  # level 2: 07:00:40
        silence_wh = message(w, WH, r"Willy One — 1\. Read the meters: no answer")
        message(w, WH, r"Wanda Two — 1\. Service the pump: ⛔ blocked")  # the block climbs too
        restart(w, clock)

        # The team leader resolves Wanda's block: Wanda and the workshop head learn it.
        w.client.tap(TL, block_for_tl["message_id"], label="1 Resolved")
        toast(w, TL, "Resolved: the block on 1. Service the pump of Wanda Two")
        message(w, W2, "Tina Lead resolved the block on 1. Service the pump")
        message(w, WH, "Tina Lead resolved the block on 1. Service the pump")
        restart(w, clock)

        # The team leader takes Willy's item: the workshop head's message shows who took it.
        w.client.tap(TL, silence_tl["message_id"], label="1 I'll handle it")
        toast(w, TL, "You took 1. Read the meters of Willy One")
        taken = "taken by Tina Lead"
        w.wait(
            "the workshop head sees who took it",
            lambda: any(
                m["message_id"] == silence_wh["message_id"] and taken in (m["text"] or "")
                for m in w.messages(WH)
            ),
        )
        restart(w, clock)

        # A worker cannot act on an escalation, even with a forged button.
        [occ_w1] = [
            o.id
            for o in Session(w.engine)
            .exec(select(Occurrence).where(Occurrence.duty_id == 1, Occurrence.day == START.date()))
            .all()
        ]
        nudge1 = message(w, W1, "your duties for")
        w.client.tap(W1, nudge1["message_id"], data=f"e:s:{occ_w1}", forge=True)
        toast(w, W1, "Only the leaders above Willy One, and admins, can act")
        restart(w, clock)

        # Not resolved within the ack timeout: Willy's item climbs on, to the plant manager,
        # later than the policy alone would have sent it (level 3 at 07:02:20; held by the ack).
        with Session(w.engine) as session:
            acked = session.exec(select(Occurrence).where(Occurrence.duty_id == 1)).first()
            assert acked is not None and acked.acked_at is not None
            held_until = acked.acked_at + timedelta(seconds=120)
        assert held_until > START + timedelta(seconds=150)  # the ack held level 3 back
        restart(w, clock, at=held_until + timedelta(seconds=2))
        message(w, PM, r"Willy One — 1\. Read the meters")
        time.sleep(3)

        # Every message exactly once, across all the restarts.
        assert count(w, TL, r"Willy One — 1\. Read the meters") == 1
        assert count(w, TL, r"Wanda Two — 1\. Service the pump") == 1
        assert count(w, WH, r"Willy One — 1\. Read the meters") == 1
        assert count(w, WH, r"Wanda Two — 1\. Service the pump") == 1
        assert count(w, WH, "resolved the block") == 1
        assert count(w, W2, "resolved the block") == 1
        assert count(w, PM, r"Willy One — 1\. Read the meters") == 1
        assert count(w, PM, "Wanda Two") == 0  # her block was resolved before it got that far
        assert count(w, W1, "your duties for") == 1 and count(w, W2, "your duties for") == 1
        with Session(w.engine) as session:
            kinds = [e.kind for e in session.exec(select(AuditEvent)).all()]
            assert kinds.count("escalation.acked") == 1
            assert kinds.count("block.resolved") == 1
            steps = [
                e.data
                for e in session.exec(
                    select(AuditEvent).where(AuditEvent.kind == "escalation.step")
                ).all()
            ]
            pm = session.exec(select(Person).where(Person.key == "pm")).one()
            assert {"kind": "escalate", "index": 2, "reason": "ack_timeout", "to": [pm.id]} in steps
            statuses = {
                o.duty_id: o.status
                for o in session.exec(
                    select(Occurrence).where(Occurrence.day == START.date())
                ).all()
            }
            assert statuses == {1: "open", 2: "resolved"}
        assert w.client.counters()["unanswered_callback_queries"] == 0
