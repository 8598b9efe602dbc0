"""Forged and malformed input in-process, with Telegram's limits on (the sandbox enforces them,
the bot paces): over 200 generated updates (a fixed seed, tests/adapters/forged.py) that no
honest client sends or that are plain wrong: taps by the wrong person, forged callback data,
typed replies with wrong numbers or times, oversized and odd text, files nobody asked for,
unknown commands, junk invite codes, and taps on yesterday's nudge after the grace. None of
them may change a stored row; every tap is answered exactly once; afterwards the bot still
records a normal Done tap. The passes run after each batch of inputs, at the same fake time,
where ``execbot run``'s tick would have run them.

Which tables may change: none of them, in the quiet minutes the test uses (no reminder or
escalation is due then), with two precise exceptions: ``audit_event`` may gain rows (the log
is append-only; the scheduler may write), but none for a reply and none that names one of
the people acting here; ``pending_input`` may lose a question (asking is the only way to add
one, and nothing here may ask). ``outbox`` must stay exactly as it was: a recorded answer
edits the nudge's stored payload, and a block would queue an escalation."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col

import models.tables  # noqa: F401  (registers every table in SQLModel.metadata)
from bot.services import planning
from models.tables import Occurrence, Outbox, Person, Reply
from sandbox.client import SandboxError
from tests.adapters.forged import (
    STRANGER,
    W1,
    W2,
    Message,
    Sent,
    Tap,
    button_data,
    forged_taps,
    messages,
    occurrence_ids,
    schedule,
)
from tests.adapters.harness import Harness, harness

SEED = 20261117
DAY1_START = datetime.fromisoformat("2026-11-17T07:00:00+01:00")  # a Tuesday; due 09:00
DAY2_START = datetime.fromisoformat("2026-11-18T07:00:00+01:00")  # yesterday's 10:00 gone
PASSES = ("plan", "nudges", "escalation", "reports", "dead")
HEADER = "your duties for"
FAILURE_MARKERS = ("update handling failed", "Traceback", "Something went wrong")

ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "lead"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "plant"

[[people]]
key = "lead"
name = "Lea Leader"
unit = "plant"
post = "manager"

[[people]]
key = "w1"
name = "Walt Worker"
unit = "team"
post = "operator"

[[people]]
key = "w2"
name = "Wanda Second"
unit = "team"
post = "operator"

[[duties]]
key = "valve"
title = "Close the valve"
assignee = "w1"
nudge = "07:00"
due = "09:00"

[[duties]]
key = "pump"
title = "Fix the pump"
assignee = "w1"
nudge = "07:00"
due = "09:00"

[[duties]]
key = "rail"
title = "Photograph the guard rail"
assignee = "w1"
nudge = "07:00"
due = "09:00"
evidence = "photo"

[[duties]]
key = "meter"
title = "Read the meter"
assignee = "w2"
nudge = "07:00"
due = "09:00"
"""

# --- the database, table by table ---------------------------------------------------------------

Snapshot = dict[str, list[tuple[Any, ...]]]


def tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, all columns, in primary-key order."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in tables()
        }


async def settled(h: Harness) -> Snapshot:
    """The database once the bot is idle: every update handled, nothing left to send, and two
    snapshots a moment apart equal."""

    def sent() -> bool:
        with h.session() as session:
            busy = col(Outbox.state).in_(["pending", "sending"])
            return not session.execute(select(Outbox).where(busy)).scalars().all()

    await h.settle()
    await h.wait("everything sent", sent)
    last = snapshot(h.engine)
    for _ in range(50):
        await asyncio.sleep(0.2)
        current = snapshot(h.engine)
        if current == last:
            return current
        last = current
    raise AssertionError("the database kept changing")


def diff(before: Snapshot, after: Snapshot) -> str:
    lines = []
    for name in before:
        gone = [row for row in before[name] if row not in after[name]]
        new = [row for row in after[name] if row not in before[name]]
        lines += [f"{name} - {row}" for row in gone] + [f"{name} + {row}" for row in new]
    return "\n".join(lines) or "(no difference)"


def assert_unchanged(before: Snapshot, after: Snapshot, people: set[int]) -> None:
    """Equal, but for what the module docstring allows in audit_event and pending_input."""
    audit = next(t for t in tables() if t.name == "audit_event")
    kind, actor = audit.c.kind, audit.c.actor_telegram_id
    kind_at = list(audit.c).index(kind)
    actor_at = list(audit.c).index(actor)
    old_audit, new_audit = before["audit_event"], after["audit_event"]
    assert new_audit[: len(old_audit)] == old_audit, "audit events changed"
    added = new_audit[len(old_audit) :]
    assert not [e for e in added if str(e[kind_at]).startswith("reply.")], added
    assert not [e for e in added if e[actor_at] in people], added
    asked = [row for row in after["pending_input"] if row not in before["pending_input"]]
    assert not asked, f"questions asked: {asked}"
    # The inbox keeps every update, and the bot's answers go through the outbox: both grow.
    growing = ("audit_event", "pending_input", "inbox", "outbox")
    steady = {name for name in before if name not in growing}
    changed = {name for name in steady if before[name] != after[name]}
    assert not changed, f"tables changed: {sorted(changed)}\n{diff(before, after)}"


# --- the inputs ---------------------------------------------------------------------------------

# --- the test -----------------------------------------------------------------------------------


async def setup(h: Harness) -> None:
    h.import_org(ORG)
    with h.session() as session:
        for key, chat in [("w1", W1), ("w2", W2)]:
            session.execute(
                update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
            )
        session.commit()
    planning.plan(h.engine, h.settings, h.clock())
    await h.people.create_person("Walt", id=W1, started=True)
    await h.people.create_person("Wanda", id=W2, started=True)
    await h.people.create_person("Mallory", id=STRANGER)
    await h.start_bot()
    await h.run_pass(*PASSES)


async def nudge(h: Harness, chat: int, day: str) -> dict[str, Any]:
    return await h.message(chat, re.escape(f"{HEADER} {day}"))


async def transcript_sizes(h: Harness) -> dict[int, int]:
    return {chat: len(await h.people.transcript(chat)) for chat in (W1, W2, STRANGER)}


async def send_all(h: Harness, ordered: list[Tap | Message], where: dict[int, int]) -> list[Sent]:
    sent: list[Sent] = []
    for item in ordered:
        if isinstance(item, Tap):
            query = await h.people.tap(item.who, where[item.who], data=item.data, forge=True)
            sent.append(Sent(item.kind, item.who, query, item.data))
        else:
            await item.send()
            sent.append(Sent(item.kind, item.who))
    return sent


async def wait_drained(h: Harness, sizes: dict[int, int], sent: list[Sent]) -> None:
    """Every tap answered, and every message answered by (at least) one bot message (a
    stranger's: one refusal)."""
    expected = Counter(s.who for s in sent if s.callback_id is None)
    # A stranger hears one refusal a minute (handlers/common.py); the rest are dropped.
    expected[STRANGER] = min(expected[STRANGER], 1)

    async def drained() -> bool:
        counters = await h.people.counters()
        if counters["unanswered_callback_queries"]:
            return False
        for chat, size in sizes.items():
            entries = (await h.people.transcript(chat))[size:]
            bot = [e for e in entries if e.get("kind") == "message" and e["from"] == "bot"]
            if len(bot) < expected[chat]:
                return False
        return True

    deadline = asyncio.get_running_loop().time() + 120  # at one message a second per chat
    while not await drained():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not every input was answered")
        await asyncio.sleep(0.2)


async def toasts(h: Harness) -> dict[str, str]:
    return {
        str(call["params"]["callback_query_id"]): str(call["params"].get("text", ""))
        for call in await h.people.calls("answerCallbackQuery")
    }


async def assert_answers(h: Harness, sent: list[Sent], sizes: dict[int, int]) -> None:
    """No toast or message says something was recorded or asks a follow-up question, and a
    stranger hears only that the bot does not know them."""
    answers = await toasts(h)
    wrong = []
    for s in sent:
        if s.callback_id is not None:
            toast = answers[s.callback_id]
            if re.search(r"Recorded|Choose|Send the evidence|Something went wrong", toast) or (
                s.who == STRANGER and "I don't know you yet" not in toast
            ):
                wrong.append(f"{s.kind} {s.data!r} by {s.who}: {toast!r}")
    for chat, size in sizes.items():
        for entry in (await h.people.transcript(chat))[size:]:
            if entry.get("kind") == "message" and entry["from"] == "bot":
                said = entry["text"] or ""
                if re.search(
                    r"Recorded|Send a photo|By when will|Why is|Something went wrong", said
                ):
                    wrong.append(f"to {chat}: {said[:200]!r}")
    assert not wrong, "\n".join(wrong)


async def test_forged_and_malformed_input_changes_nothing(
    tmp_path: Path, template_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the bot runs with --log-level DEBUG end to end
    started_at = time.monotonic()
    rng = random.Random(SEED)
    people = {W1, W2, STRANGER}
    counts: Counter[str] = Counter()
    evidence = tmp_path / "evidence"
    config = f'[replies]\ngrace = "1h"\nevidence_dir = "{evidence.as_posix()}"\n'
    async with harness(tmp_path, template_db, DAY1_START, config_extra=config, paced=True) as h:
        await setup(h)
        day1 = {chat: await nudge(h, chat, "Tue, Nov 17") for chat in (W1, W2)}
        w1_ids, w2_ids = occurrence_ids(day1[W1]), occurrence_ids(day1[W2])
        assert len(w1_ids) == 3 and len(w2_ids) == 1
        await h.people.send_command(STRANGER, "start")  # opens the stranger's chat
        refusal = await h.message(STRANGER, "")
        where = {W1: day1[W1]["message_id"], W2: day1[W2]["message_id"]}
        where[STRANGER] = refusal["message_id"]
        with h.session() as session:
            top = max(o.id or 0 for o in session.execute(select(Occurrence)).scalars())

        # Day 1, 07:00: the inputs, then the database must be as it was.
        before = await settled(h)
        rows = {name: len(table_rows) for name, table_rows in before.items()}
        sizes = await transcript_sizes(h)
        inputs = messages(rng, h.people)
        ordered = schedule(rng, forged_taps(rng, w1_ids, w2_ids, top + 1), inputs)
        sent = await send_all(h, ordered, where)
        counts.update(s.kind for s in sent)
        try:
            await h.people.send_text(W1, "done 1 " + "x" * 4993)
        except SandboxError as error:  # 5,000 characters: Telegram refuses it, so does the sandbox
            assert "longer than 4096" in str(error)
            counts["oversized text (5000 characters): refused before the bot"] += 1
        else:
            raise AssertionError("the sandbox took a 5,000-character message")
        await wait_drained(h, sizes, sent)
        await h.run_pass(*PASSES)  # a tick more: anything the inputs set off would show now
        await assert_answers(h, sent, sizes)
        assert_unchanged(before, await settled(h), people)

        # Day 2: yesterday's nudge after a restart, long past its grace. Every button refused.
        await h.bot.stop()
        h.clock.set(DAY2_START)
        await h.start_bot()
        await h.run_pass(*PASSES)
        day2 = {chat: await nudge(h, chat, "Wed, Nov 18") for chat in (W1, W2)}
        before = await settled(h)
        sizes = await transcript_sizes(h)
        stale: list[Sent] = []
        for chat in (W1, W2):
            for data in button_data(day1[chat]):
                query = await stale_tap(h, chat, day1[chat], data)
                stale.append(Sent("yesterday's nudge: its real buttons", chat, query))
        for occurrence in w1_ids:
            for prefix in ("c:w:", "c:o:", "t:1h:", "t:tm:", "k:s:"):
                data = f"{prefix}{occurrence}"
                query = await h.people.tap(W1, where[W1], data=data, forge=True)
                stale.append(Sent("yesterday's items: follow-up buttons", W1, query))
        counts.update(s.kind for s in stale)
        await wait_drained(h, sizes, stale)
        await h.run_pass(*PASSES)
        await assert_answers(h, stale, sizes)
        answers = await toasts(h)
        assert all("too late" in answers[s.callback_id or ""] for s in stale)
        assert_unchanged(before, await settled(h), people)

        # Nothing broke: every tap answered once, no failed answer, no 429; the bot is alive
        # and records a normal tap.
        counters = await h.people.counters()
        assert counters["unanswered_callback_queries"] == 0
        assert counters["callback_queries"] == counters["answered_callback_queries"]
        failed = [c for c in await h.people.calls("answerCallbackQuery") if c["status"] != 200]
        assert failed == []
        assert counters["429"] == 0
        await h.people.tap(W1, day2[W1]["message_id"], label="1 ✅ Done")

        async def done_recorded() -> bool:
            return "Recorded: 1. Close the valve is done." in (await toasts(h)).values()

        await h.until("a normal Done recorded", done_recorded)
        assert not h.bot.task.done()
        with h.session() as session:
            replies = session.execute(select(Reply)).scalars().all()
            days = {o.id: o.day for o in session.execute(select(Occurrence)).scalars()}
            assert [(days[r.occurrence_id], r.kind, r.via) for r in replies] == [
                (date(2026, 11, 18), "done", "button")
            ]
        assert not [m for m in FAILURE_MARKERS if m in caplog.text]
        assert not h.errors.records, h.errors.records
        assert not evidence.exists() or not any(evidence.iterdir()), "unasked files were kept"

    total = sum(counts.values())
    print(f"\nrows compared before and after, day 1: {rows}")
    print(f"{total} forged or malformed inputs, {time.monotonic() - started_at:.1f}s:")
    for kind, count in sorted(counts.items()):
        print(f"  {count:4d}  {kind}")
    assert total >= 200


async def stale_tap(h: Harness, chat: int, message: dict[str, Any], data: str) -> str:
    """A tap on a button of yesterday's nudge; if the bot has removed the button, the same
    data as a client that still shows the old keyboard would send it."""
    try:
        return await h.people.tap(chat, message["message_id"], data=data)
    except SandboxError:
        return await h.people.tap(chat, message["message_id"], data=data, forge=True)
