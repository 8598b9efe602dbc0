"""Replies hardened (issue 10), end to end through the sandbox with its Bot API latency:
``done 1 3`` records both duties and an update delivered again after a kill doubles nothing
(item 6). Items 10, 15 and 16 are in tests/adapters/test_reply_hardening.py (the database
file's mode in tests/services/test_private_files.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import config
from bot.services import planning
from models.tables import AuditEvent, Occurrence, Person, Reply
from tests.e2e.harness import World, world

WORKER, WANDA, LEADER = 931, 932, 933
START = "2026-11-17T06:59:58+01:00"  # a Tuesday; nudges at 07:00
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

[[people]]
key = "wanda"
name = "Wanda Two"
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

[[duties]]
key = "meters"
title = "Read the meters"
assignee = "wanda"
nudge = "07:00"
due = "+5s"
"""

CONFIG = """
[replies]
grace = "1h"
evidence_dir = "{evidence}"
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [
  {{ after = "2s", notify = "next" }},
  {{ after = "1h", notify = "next" }},
]
ack_timeout = "1h"
"""
LATENCY = (0.1, 0.3)


def start(w: World, **env: str) -> dict[str, Any]:
    """Import the plant, register everyone's chat, start the bot; Walt's nudge."""
    w.write_config(CONFIG.format(evidence=(w.root / "evidence").as_posix()))
    (w.root / "org.toml").write_text(ORG)
    w.execbot("org", "import", str(w.root / "org.toml"))
    chats = {"wor": WORKER, "wanda": WANDA, "lead": LEADER}
    for key, chat in chats.items():
        w.client.create_person(key, id=chat, started=True)
    with Session(w.engine) as session:
        for key, chat in chats.items():
            session.execute(
                update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
            )
        session.commit()
    # The day planned from here, as the bot's first planning pass would: with the Bot API's
    # latency that pass can come a whole plan_every late (issue 10, item 4).
    planning.plan(w.engine, config.load(w.root / "config.toml"), datetime.fromisoformat(START))
    w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=START, **env))
    return message(w, WORKER, "your duties for")


def message(w: World, chat: int, pattern: str, after: int = 0) -> dict[str, Any]:
    return w.bot_message(chat, pattern, after)


def last_id(w: World, chat: int) -> int:
    return max((m["message_id"] for m in w.messages(chat)), default=0)


def replies(w: World) -> list[tuple[int, str, str | None, str | None, str]]:
    """Every stored reply: (list number, kind, category, text, via), in order."""
    with Session(w.engine) as session:
        numbers = {o.id: o.number for o in session.exec(select(Occurrence)).all()}
        rows = session.exec(select(Reply).order_by(col(Reply.id))).all()
        return [(numbers[r.occurrence_id], r.kind, r.category, r.text, r.via) for r in rows]


def test_item6_done_1_3_records_both_and_a_redelivery_doubles_nothing(tmp_path: Path) -> None:
    with world(tmp_path, latency=LATENCY) as w:
        start(w)
        # The answer to "done 1 3" hangs: the bot has stored the line (the update is in the
        # inbox, its answer in the outbox) but the answer has not reached the person when it
        # is killed. The next process sends the answer (or, had the kill come before the
        # update was marked handled, handles it again: "Already recorded"); nothing doubles.
        w.client.add_fault("delay", seconds=60, method="sendMessage")
        w.client.send_text(WORKER, "done 1 3")
        w.wait("both duties stored", lambda: len(replies(w)) == 2)
        w.bots[-1].kill()
        w.client.clear_faults()
        mark = last_id(w, WORKER)
        w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=START))
        again = message(w, WORKER, "^(Already r|R)ecorded", after=mark)
        assert again["text"] in (
            "Recorded: 1. Close the valve is done.\nRecorded: 3. Clean the filter is done.",
            "Already recorded: 1. Close the valve is ✅ done.\n"
            "Already recorded: 3. Clean the filter is ✅ done.",
        ), again["text"]
        assert replies(w) == [
            (1, "done", None, None, "command"),
            (3, "done", None, None, "command"),
        ]

        # Without a kill: both recorded, confirmed in one answer, the nudge shows both.
        mark = last_id(w, WORKER)
        w.client.send_text(WORKER, "blocked 2, 3 materials: no spare filter")
        answer = message(w, WORKER, "Recorded", after=mark)
        assert answer["text"] == (
            "Recorded: 2. Fix the pump is blocked (Materials or tools).\n"
            "Recorded: 3. Clean the filter is blocked (Materials or tools)."
        )
        with Session(w.engine) as session:
            events = session.exec(
                select(AuditEvent).where(AuditEvent.kind == "reply.recorded")
            ).all()
            assert [(e.data["from"], e.data["to"]) for e in events] == [
                ("open", "done"), ("open", "done"), ("open", "blocked"), ("done", "blocked"),
            ]  # fmt: skip
        logs = "\n".join(proc.log.read_text(errors="replace") for proc in w.bots)
        assert "IntegrityError" not in logs
