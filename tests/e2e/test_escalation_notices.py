"""Escalation messages end to end, as a leader sees them: a block reaches the leader at once
with the default group window (the block wakes the escalation pass); a reminder never comes
before the nudge nor for a duty that was skipped while the bot was down. The sandbox answers
every call after 0.1-0.3 s. Items 8, 3 and 21 are in tests/adapters/test_escalation_notices.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import Notice, Occurrence, Person
from tests.e2e.harness import World, world
from tests.notice_org import BOSS, DUTY, LATENCY, LEADER, TITLES, WORKER, org

START = "2026-11-17T06:59:58+01:00"


@contextmanager
def started(
    tmp_path: Path, org_text: str, config: str = "", clock: str = START, speed: float = 1
) -> Iterator[World]:
    """The sandbox and a running bot with the worker, the leader and the boss joined."""
    with world(tmp_path, latency=LATENCY) as w:
        w.write_config(config)
        (tmp_path / "org.toml").write_text(org_text)
        w.execbot("org", "import", str(tmp_path / "org.toml"))
        chats = {"wor": WORKER, "lead": LEADER, "boss": BOSS}
        with Session(w.engine) as session:
            for key, chat in chats.items():
                w.client.create_person(key, id=chat, started=True)
                session.execute(
                    update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
                )
            session.commit()
        bot = w.start_bot(EXECBOT_CLOCK_START=clock, EXECBOT_CLOCK_SPEED=str(speed))
        w.wait_ready(bot)
        yield w


def from_bot(w: World, chat: int) -> list[dict[str, Any]]:
    return [m for m in w.messages(chat) if m["from"] == "bot"]


def message(w: World, chat: int, pattern: str, timeout: float = 20) -> dict[str, Any]:
    return w.wait(
        f"{pattern!r} in chat {chat}",
        lambda: next((m for m in from_bot(w, chat) if re.search(pattern, m["text"] or "")), None),
        timeout=timeout,
    )


def block_by_buttons(w: World, number: int = 1) -> None:
    nudge = message(w, WORKER, "your duties for")
    w.client.tap(WORKER, nudge["message_id"], label=f"{number} ⛔ Blocked")
    ask = message(w, WORKER, f"Why is {number}. .* blocked")
    w.client.tap(WORKER, ask["message_id"], label="Materials or tools")
    message(w, WORKER, "Add a short note on the block")


# --- item 9: a block notifies level 1 at once ------------------------------------------------


def test_item9_a_block_reaches_the_leader_at_once_with_the_default_group_window(
    tmp_path: Path,
) -> None:
    with started(tmp_path, org()) as w:  # group_window: the default 5 minutes
        tapped = time.monotonic()
        block_by_buttons(w)
        message(w, LEADER, r"Walt Worker — 1\. Close the valve: ⛔ blocked \(Materials", timeout=15)
        assert time.monotonic() - tapped < 15  # not the 5 minutes of the window


# --- item 20: reminders come after the nudge, and never for a skipped duty ------------------


def test_item20_no_reminder_before_the_nudge_and_none_for_a_skipped_duty(tmp_path: Path) -> None:
    # The default policy: reminders 30 minutes before the due time and at it. "Close the
    # valve" is nudged at 07:00 and due at 07:03: its 06:33 reminder would come before the
    # nudge. "Fix the pump" is nudged at 07:20, due at 07:25, while the bot is down.
    text = org(due="07:03") + DUTY.format(key="d1", title=TITLES[1], due="07:25").replace(
        '"07:00"', '"07:20"'
    )
    config = '[escalation]\ngroup_window = "0s"\nquiet_hours = ""\n'
    with started(tmp_path, text, config, clock="2026-11-17T06:59:55+01:00", speed=20) as w:
        message(w, WORKER, r"Reminder: 1\. Close the valve is due at 07:03")
        worker = [m["text"] for m in from_bot(w, WORKER)]
        assert "your duties for" in worker[0]  # the nudge came first
        assert sum("Reminder" in t for t in worker) == 1

        # Down from about 07:05 until 07:35: the pump's nudge is skipped, and so is its
        # reminder (07:25); its climb starts at 07:55 as the policy says.
        w.bots[-1].stop()
        back = "2026-11-17T07:35:00+01:00"
        w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=back, EXECBOT_CLOCK_SPEED="20"))
        climb = datetime.fromisoformat("2026-11-17T07:55:00+01:00")

        def pump() -> Occurrence | None:
            with Session(w.engine) as session:
                occ = session.exec(
                    select(Occurrence).where(Occurrence.number == 2, Occurrence.day == climb.date())
                ).one()
                passed = occ.nudge_state == "skipped" and occ.next_step_at == climb
                return occ if passed else None

        occ = w.wait("the pump's nudge skipped and its climb planned", pump)
        with Session(w.engine) as session:
            kinds = [n.kind for n in session.exec(select(Notice)) if n.occurrence_id == occ.id]
        assert kinds == []  # no reminder was ever made for it
        assert not any("Fix the pump" in (m["text"] or "") for m in from_bot(w, WORKER))
