"""Escalation in-process, with a three-level tree (team, workshop, plant) and policies in
seconds: silence climbs to the team leader then the workshop head; "I'll handle it" stops the
climb until the ack timeout, then it climbs on; a block reaches the leader at once and
"Resolved" tells the worker and the workshop head; a worker cannot act on an escalation. The
bot is stopped and started again (as ``execbot run`` after SIGTERM, running every pass once at
start-up) between every two steps, and every message still arrives exactly once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import select

from models.tables import AuditEvent, Occurrence, Person
from tests.adapters.harness import Harness, harness

W1, W2, TL, WH, PM = 901, 902, 903, 904, 905
START = datetime.fromisoformat("2026-11-17T07:00:00+01:00")  # a Tuesday, the nudge time
DUE = START + timedelta(seconds=20)  # Willy's reading

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
PASSES = ("plan", "nudges", "escalation", "reports", "dead")


async def count(h: Harness, chat: int, pattern: str) -> int:
    return sum(1 for t in await h.texts(chat) if re.search(pattern, t))


async def restart(h: Harness, at: datetime | None = None, *, later: float = 2) -> None:
    """Stop the bot, move the clock (to ``at``, as if the bot had been down until then, or
    ``later`` seconds on), start it again and run every pass once, as start-up does."""
    await h.settle()
    await h.bot.stop()
    h.clock.set(max(at, h.clock()) if at is not None else h.clock() + timedelta(seconds=later))
    await h.start_bot()
    await h.run_pass(*PASSES)


async def test_silence_and_blocks_climb_until_owned(tmp_path: Path, template_db: Path) -> None:
    async with harness(tmp_path, template_db, START, config_extra=CONFIG) as h:
        h.import_org(ORG)
        await h.bind({"w1": W1, "w2": W2, "tl": TL, "wh": WH, "pm": PM})
        await h.start_bot()
        await h.run_pass(*PASSES)

        # Both workers are nudged; Wanda reports a block: her team leader hears at once.
        nudge2 = await h.message(W2, "your duties for")
        await h.message(W1, "your duties for")
        await h.people.tap(W2, nudge2["message_id"], label="1 ⛔ Blocked")
        ask = await h.message(W2, "Why is 1. Service the pump blocked")
        await h.people.tap(W2, ask["message_id"], label="Waiting on others")
        await h.settle()
        await h.run_pass("escalation")  # the block woke the pass
        block_for_tl = await h.message(
            TL, r"Wanda Two — 1\. Service the pump: ⛔ blocked \(Waiting on others\)"
        )
        await restart(h, at=DUE + timedelta(seconds=9))  # level 1 of the silence: 07:00:28

        # Silence: Willy's duty climbs to the team leader, then the workshop head.
        silence_tl = await h.message(TL, r"Willy One — 1\. Read the meters: no answer")
        await restart(h, at=DUE + timedelta(seconds=21))  # level 2: 07:00:40
        silence_wh = await h.message(WH, r"Willy One — 1\. Read the meters: no answer")
        await h.message(WH, r"Wanda Two — 1\. Service the pump: ⛔ blocked")  # it climbs too
        await restart(h)

        # The team leader resolves Wanda's block: Wanda and the workshop head learn it.
        await h.people.tap(TL, block_for_tl["message_id"], label="1 Resolved")
        await h.toast(TL, "Resolved: the block on 1. Service the pump of Wanda Two")
        await h.message(W2, "Tina Lead resolved the block on 1. Service the pump")
        await h.message(WH, "Tina Lead resolved the block on 1. Service the pump")
        await restart(h)

        # The team leader takes Willy's item: the workshop head's message shows who took it.
        await h.people.tap(TL, silence_tl["message_id"], label="1 I'll handle it")
        await h.toast(TL, "You took 1. Read the meters of Willy One")

        async def taken() -> bool:
            return any(
                m["message_id"] == silence_wh["message_id"]
                and "taken by Tina Lead" in (m["text"] or "")
                for m in await h.messages(WH)
            )

        await h.until("the workshop head sees who took it", taken)
        await restart(h)

        # A worker cannot act on an escalation, even with a forged button.
        with h.session() as session:
            today = select(Occurrence).where(
                Occurrence.duty_id == 1, Occurrence.day == START.date()
            )
            [occ_w1] = [o.id for o in session.exec(today).all()]
        nudge1 = await h.message(W1, "your duties for")
        await h.people.tap(W1, nudge1["message_id"], data=f"e:s:{occ_w1}", forge=True)
        await h.toast(W1, "Only the leaders above Willy One, and admins, can act")
        await restart(h)

        # Not resolved within the ack timeout: Willy's item climbs on, to the plant manager,
        # later than the policy alone would have sent it (level 3 at 07:02:20; held by the ack).
        with h.session() as session:
            acked = session.exec(select(Occurrence).where(Occurrence.duty_id == 1)).first()
            assert acked is not None and acked.acked_at is not None
            held_until = acked.acked_at + timedelta(seconds=120)
        assert held_until > DUE + timedelta(seconds=120)  # the ack held level 3 back
        await restart(h, at=held_until + timedelta(seconds=2))
        await h.message(PM, r"Willy One — 1\. Read the meters")
        for _ in range(3):  # three more ticks, a second apart: nothing is repeated
            h.clock.advance(seconds=1)
            await h.run_pass(*PASSES)
        await h.settle()

        # Every message exactly once, across all the restarts.
        assert await count(h, TL, r"Willy One — 1\. Read the meters") == 1
        assert await count(h, TL, r"Wanda Two — 1\. Service the pump") == 1
        assert await count(h, WH, r"Willy One — 1\. Read the meters") == 1
        assert await count(h, WH, r"Wanda Two — 1\. Service the pump") == 1
        assert await count(h, WH, "resolved the block") == 1
        assert await count(h, W2, "resolved the block") == 1
        assert await count(h, PM, r"Willy One — 1\. Read the meters") == 1
        assert await count(h, PM, "Wanda Two") == 0  # her block was resolved before then
        assert await count(h, W1, "your duties for") == 1
        assert await count(h, W2, "your duties for") == 1
        with h.session() as session:
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
        assert (await h.people.counters())["unanswered_callback_queries"] == 0
        assert not h.errors.records, h.errors.records
