"""Escalation messages as a leader sees them, in-process with the Bot API's latency: a note typed
after the leader was told reaches them once (item 8); four blocks with long notes arrive as
messages Telegram accepts (item 3); toggling blocked and done tells the leader about the item
once per window (item 21). A block wakes the escalation pass in ``execbot run``; here the test
runs the pass after each answer, at the same fake time. Items 9 (the wake itself) and 20 (a
restart) stay in tests/e2e/test_escalation_notices.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from sqlmodel import col, select

from models.tables import Notice, Outbox
from tests.adapters.harness import Harness, harness
from tests.adapters.org import START
from tests.notice_org import BOSS, LATENCY, LEADER, TITLES, WORKER, org


@asynccontextmanager
async def started(
    root: Path, template: Path, org_text: str, config: str = ""
) -> AsyncIterator[Harness]:
    """The bot at 07:00 with the worker, the leader and the boss joined; the worker nudged."""
    async with harness(root, template, START, config_extra=config, latency=LATENCY) as h:
        h.import_org(org_text)
        await h.bind({"wor": WORKER, "lead": LEADER, "boss": BOSS})
        await h.start_bot()
        await h.run_pass("plan", "nudges")
        yield h
        assert not h.errors.records, h.errors.records


async def count(h: Harness, chat: int, predicate: Callable[[str], bool]) -> int:
    return sum(predicate(t) for t in await h.texts(chat))


async def settled(h: Harness) -> None:
    """Until nothing is left to do: no notice waiting and the outbox sent."""

    def done() -> bool:
        with h.session() as session:
            pending = session.exec(select(Notice).where(Notice.state == "pending")).all()
            unsent = session.exec(
                select(Outbox).where(col(Outbox.state).in_(["pending", "sending"]))
            ).all()
            return not pending and not unsent

    await h.wait("everything sent", done)


async def recorded(h: Harness, answers: int) -> bool:
    return await count(h, WORKER, lambda t: "Recorded: 1. Close the valve" in t) >= answers


async def block_by_buttons(h: Harness, number: int = 1) -> None:
    nudge = await h.message(WORKER, "your duties for")
    await h.people.tap(WORKER, nudge["message_id"], label=f"{number} ⛔ Blocked")
    ask = await h.message(WORKER, f"Why is {number}. .* blocked")
    await h.people.tap(WORKER, ask["message_id"], label="Materials or tools")
    await h.message(WORKER, "Add a short note on the block")
    await h.run_pass("escalation")  # the block woke the pass


async def test_item8_a_note_typed_after_the_leader_was_told_reaches_the_leader_once(
    tmp_path: Path, template_db: Path
) -> None:
    async with started(tmp_path, template_db, org(), '[escalation]\ngroup_window = "0s"\n') as h:
        await block_by_buttons(h)
        told = await h.message(LEADER, r"1\. Close the valve: ⛔ blocked \(Materials")
        assert "Keller" not in told["text"]
        await h.people.send_text(WORKER, "The gasket from Keller comes on Friday")
        await h.settle()
        await h.run_pass("escalation")
        note = "Note from Walt Worker on 1. Close the valve"
        await h.message(LEADER, re.escape(note) + r".*: The gasket from Keller comes on Friday")
        await settled(h)
        await h.run_pass("escalation")  # a later pass repeats nothing
        await settled(h)
        assert await count(h, LEADER, lambda t: note in t) == 1
        assert await count(h, BOSS, lambda t: "Keller" in t) == 0


async def test_item3_four_blocks_with_long_notes_reach_the_leader(
    tmp_path: Path, template_db: Path
) -> None:
    # The leader's quiet hours hold the four blocks until 07:01, so they go out together.
    # (A group window, so that the code before the fix grouped them as well.)
    config = '[escalation]\nquiet_hours = ""\ngroup_window = "1m"\n'
    text = org(duties=4, lead_extra='quiet_hours = "22:00-07:01"')
    async with started(tmp_path, template_db, text, config) as h:
        await h.message(WORKER, "your duties for")
        for number in range(1, 5):
            note = f"part {number} is missing and the supplier is late. " * 25
            await h.people.send_text(WORKER, f"blocked {number} materials {note}")
            await h.message(WORKER, f"Recorded: {number}. .* is blocked")
            await h.run_pass("escalation")
        assert await h.texts(LEADER) == []  # held by the quiet hours
        h.clock.advance(minutes=1, seconds=30)
        await h.run_pass("escalation")
        await settled(h)
        received = await h.texts(LEADER)
        assert received and all(len(t) <= 4096 for t in received)
        listed = "\n".join(received)
        for number, title in enumerate(TITLES, 1):
            assert listed.count(f"Walt Worker — {number}. {title}: ⛔ blocked") == 1
        assert listed.count("…") == 4  # each note quoted up to the limit, then cut
        with h.session() as session:
            states = session.exec(select(Outbox.state)).all()
            assert set(states) == {"sent"}, states


async def test_item21_toggling_blocked_and_done_tells_the_leader_once_per_window(
    tmp_path: Path, template_db: Path
) -> None:
    # The default 5-minute window; the answers come 30 s apart (at 07:00:30 to 07:02:30).
    async with started(tmp_path, template_db, org()) as h:
        await h.message(WORKER, "your duties for")
        answers = ("blocked 1 materials", "done 1", "blocked 1 waiting", "done 1", "blocked 1 help")
        for index, answer in enumerate(answers):
            h.clock.advance(seconds=30)  # as at 30 times real speed, a second an answer
            await h.people.send_text(WORKER, answer)
            await h.until(f"{index + 1} answers recorded", partial(recorded, h, index + 1))
            await h.run_pass("escalation")  # a block wakes the pass; so it runs after each
        first = await h.message(LEADER, r"1\. Close the valve: ⛔ blocked \(Materials")
        # A window after the first message: one message with the latest state, once.
        h.clock.advance(minutes=5)  # 07:07:30: a window after the first message
        await h.run_pass("escalation")
        latest = await h.message(LEADER, r"1\. Close the valve: ⛔ blocked \(Need help")
        assert latest["message_id"] != first["message_id"]
        assert latest["text"].startswith("1 item needs your attention:")
        await settled(h)
        assert len(await h.messages(LEADER)) == 2
