"""Forged and malformed input in-process, with Telegram's limits on (the sandbox enforces them,
the bot paces): over 200 generated updates (a fixed seed) that no
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from sandbox.client import AsyncSandboxClient, SandboxError
from tests.adapters.harness import Harness, harness

SEED = 20261117
W1, W2, STRANGER = 901, 902, 903
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
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
    steady = {name for name in before if name not in ("audit_event", "pending_input")}
    changed = {name for name in steady if before[name] != after[name]}
    assert not changed, f"tables changed: {sorted(changed)}\n{diff(before, after)}"


# --- the inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tap:
    kind: str
    who: int
    data: str  # sent from the sender's own chat: on their nudge, or the stranger's refusal


@dataclass(frozen=True)
class Message:
    kind: str
    who: int
    send: Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Sent:
    kind: str
    who: int
    callback_id: str | None = None  # for taps
    data: str = ""


def button_data(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message["buttons"] for b in row]


def occurrence_ids(message: dict[str, Any]) -> list[int]:
    return sorted({int(d.rsplit(":", 1)[1]) for d in button_data(message)})


def junk(rng: random.Random, size: int) -> str:
    """Printable ASCII and a few multi-byte characters, at most ``size`` UTF-8 bytes."""
    alphabet = [chr(c) for c in range(33, 127)] + list("éß€✅⛔🕒\u202e\u200bｄ١")
    text = ""
    while True:
        char = rng.choice(alphabet)
        if len((text + char).encode()) > size:
            return text or "x"
        text += char


def forged_taps(
    rng: random.Random, w1_ids: list[int], w2_ids: list[int], missing: int
) -> list[Tap]:
    """Callback data the sender may not use: others' items, missing ids, bad shapes."""
    taps: list[Tap] = []
    nudge_data = {
        W1: [f"r:{a}:{i}" for i in w1_ids for a in "dbl"],
        W2: [f"r:{a}:{i}" for i in w2_ids for a in "dbl"],
    }
    follow_ups = ["c:w:", "c:m:", "c:h:", "c:o:", "t:1h:", "t:2h:", "t:es:", "t:tm:", "k:s:"]
    leader = ["e:a:", "e:x:", "e:n:", "e:r:", "e:s:", "e:p1:", f"e:p{rng.randint(2, 9)}:"]
    # The wrong person: the other worker's real nudge buttons, sent from one's own chat.
    for owner, other in [(W1, W2), (W2, W1)]:
        for data in nudge_data[owner]:
            taps.append(Tap("wrong person: the other worker's nudge button", other, data))
            taps.append(Tap("wrong person: a stranger sends a nudge button", STRANGER, data))
    # Follow-up buttons (category, later time, skip note) and leader actions on others' items.
    for prefix in follow_ups + leader:
        kind = "others' item: follow-up or leader button"
        taps.append(Tap(kind, W2, prefix + str(rng.choice(w1_ids))))
        taps.append(Tap(kind, W1, prefix + str(w2_ids[0])))
        taps.append(Tap(kind, STRANGER, prefix + str(rng.choice(w1_ids))))
    # A worker acting as their own leader.
    for prefix in leader:
        taps.append(Tap("own item: leader action", W1, prefix + str(rng.choice(w1_ids))))
    # Ids that do not exist, or cannot.
    for prefix in ["r:d:", "r:b:", "r:l:", "c:m:", "t:tm:", "k:s:", "e:a:"]:
        taps.append(Tap("missing id", W1, prefix + str(missing + rng.randint(0, 50))))
    for number in ["999999999999", "9" * 13, "18446744073709551616", "2147483648", "-1", "0"]:
        taps.append(Tap("huge or impossible id", rng.choice([W1, W2]), f"r:d:{number}"))
    # Wrong shapes around one's own real id: none of these may be read as a button.
    own = w1_ids[0]
    shapes = [
        f"x:d:{own}", f"R:d:{own}", f"r:D:{own}", f"rr:d:{own}", f":d:{own}", f"r::{own}",
        "r:d:", "r:d", "r", ":", "::", f"r:d:{own}:", f"r:d:{own} ", f" r:d:{own}",
        f"r:d:{own}\n", f"r:d:{own}\x00", f"r:d:+{own}", f"r:d:{own}.0", f"r:zz:{own}",
        f"c:x:{own}", f"t:3h:{own}", f"k:x:{own}", f"e:{own}", f"e:q:{own}", f"e:p:{own}",
        f"r:d:{own}?", f"r:d:0x{own:x}", f"r:d:{own}e0", "r:d:١", "r:d:１",
    ]  # fmt: skip
    taps += [Tap("wrong shape", W1, data) for data in shapes]
    sql = [
        "r:d:1 OR 1=1", "r:d:1; DROP TABLE reply;--", "' OR '1'='1", "r:d:1' --",
        "r:d:(SELECT 1)", "c:w:1 UNION SELECT * FROM person", "%s%s%s%n", "{0}{1}",
        "r:d:{id}", '{"action": "done", "id": 1}', "<script>alert(1)</script>", "../../../etc",
    ]  # fmt: skip
    taps += [Tap("SQL-ish or format string", rng.choice([W1, W2, STRANGER]), d) for d in sql]
    for _ in range(12):
        taps.append(Tap("64-byte junk", rng.choice([W1, W2, STRANGER]), junk(rng, 64)))
    for _ in range(6):
        size = rng.randint(1, 8)
        taps.append(Tap("short junk", rng.choice([W1, W2, STRANGER]), junk(rng, size)))
    return taps


def messages(rng: random.Random, c: AsyncSandboxClient) -> list[Message]:
    """Wrong numbers and times, oversized or odd text, unknown commands, junk invite codes,
    files nobody asked for. W1 has items 1-3 and W2 item 1: no text here names a number and
    a valid answer for its sender."""
    out: list[Message] = []

    def text(kind: str, who: int, body: str) -> None:
        out.append(Message(kind, who, lambda: c.send_text(who, body)))

    def command(kind: str, who: int, name: str, args: str = "") -> None:
        out.append(Message(kind, who, lambda: c.send_command(who, name, args)))

    def document(who: int, name: str) -> None:
        data = rng.randbytes(rng.randint(1, 3000))
        send = lambda: c.send_document(who, data, filename=name)  # noqa: E731
        out.append(Message("document nobody asked for", who, send))

    def photo(who: int, caption: str | None = None) -> None:
        send = lambda: c.send_photo(who, PNG, filename="p.png", caption=caption)  # noqa: E731
        out.append(Message("photo nobody asked for", who, send))

    wrong = [
        "done 99", "done 0", "done 4", "done 000", "blocked 9 waiting for parts",
        "later 1 25:99", "later 4 24:00", "later 1 +0h", "later 1 +9999999d",
        "later 1 yesterday", "later 1 15:30 16:00", "blocked", "done", "later", "done ²",
        "done 1²", "blocked ⑴ help", "done 1234", "done -1", "done 1; DROP TABLE reply",
        "done one", "later 1", "blocked 7 '); DROP TABLE reply;--", "done 0 9",
    ]  # fmt: skip
    for index, body in enumerate(wrong):
        text("typed reply with a wrong number or time", [W1, W2][index % 2], body)
    text("typed reply with a wrong number or time", W1, "later 2 +99999999999d")
    many = "done " + " ".join(str(n) for n in range(4, 400))  # 396 numbers nobody has
    text("typed reply naming hundreds of numbers", W1, many)
    text("typed reply naming hundreds of numbers", W2, many.replace("done", "blocked"))
    text("oversized text (4096 characters)", W1, ("done 1 " + "x" * 4096)[:4096])
    text("oversized text (4096 characters)", W2, "blocked 1 " + "y" * 4086)
    text("oversized text (4096 characters)", STRANGER, "done 1 " + "q" * 4089)
    text("oversized text (2001 characters)", W1, "done 1 " + "z" * 1994)
    odd = [
        "ｄｏｎｅ　１", "\u202edone 1", "done\u200b1", "✅ 1", "😀" * 500, "done\u00a0\u00a0",
        "\x00", "\u202e\u202d", "Done!", "DONE ALL", "1", "d o n e 1",
    ]  # fmt: skip
    for index, body in enumerate(odd):
        text("unicode or odd text", [W1, W2, STRANGER][index % 3], body)
    codes = ["AAAA", "A" * 64, "A" * 65, "' OR 1=1--", "../../etc/passwd", "🙂", "-_-_"]
    for who in [W1, W2, STRANGER]:
        for name, args in [("foo", ""), ("done", "1"), ("DROP", "TABLE reply")]:
            command("unknown command", who, name, args)
        for code in rng.sample(codes, 3):
            command("/start with a garbage code", who, "start", code)
    names = [
        "../../etc/passwd", "x" * 200 + ".pdf", "\u202egpj.exe", "con", ".htaccess",
        'evil";.sh', "名前.txt", "a/b\\c.txt", "report.pdf.exe",
    ]  # fmt: skip
    for index, name in enumerate(names):
        document([W1, W2, STRANGER][index % 3], name)
    photo(W1, "done 1")
    photo(W1)
    photo(W2, "evidence for 1")
    photo(STRANGER)
    return out


def schedule(rng: random.Random, taps: list[Tap], said: list[Message]) -> list[Tap | Message]:
    """The order of sending. Each message is answered by one message and the bot paces those
    at one per second and chat, so messages go round-robin over the chats; the shuffled taps
    (answered by a toast only) fill the gaps."""
    by_chat: dict[int, list[Message]] = {}
    for message in said:
        by_chat.setdefault(message.who, []).append(message)
    for queue in by_chat.values():
        rng.shuffle(queue)
    rounds: list[Message] = []
    while any(by_chat.values()):
        rounds += [by_chat[chat].pop() for chat in sorted(by_chat) if by_chat[chat]]
    pending = taps[:]
    rng.shuffle(pending)
    per_gap = len(pending) // len(rounds) + 1
    ordered: list[Tap | Message] = []
    for message in rounds:
        ordered.append(message)
        ordered += [pending.pop() for _ in range(min(per_gap, len(pending)))]
    return ordered + pending


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
    """Every tap answered, and every message answered by (at least) one bot message."""
    expected = Counter(s.who for s in sent if s.callback_id is None)

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
        day1 = {chat: await nudge(h, chat, "Tue 17 Nov") for chat in (W1, W2)}
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
        day2 = {chat: await nudge(h, chat, "Wed 18 Nov") for chat in (W1, W2)}
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
