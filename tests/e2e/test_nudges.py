"""Nudges end to end: the sandbox and the real ``execbot run`` as separate processes, on a
virtual clock (``EXECBOT_CLOCK_START``) so that a morning's nudge time comes within seconds: a
wave survives a SIGKILL and injected 429/5xx answers. The nudge times in two timezones and a
late joiner are in tests/adapters/test_nudges.py."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import Outbox, Person
from tests.e2e.harness import World, world

HEADER = re.compile(r"your duties for")


def wave_org(people: int) -> str:
    lines = [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\n',
        '[[duties]]\nkey = "round"\ntitle = "Morning round"\npost = "operator"\nunit = "plant"\nnudge = "07:00"\ndue = "11:00"\n',  # noqa: E501
    ]
    for i in range(people):
        lines.append(
            f'[[people]]\nkey = "p{i}"\nname = "Person {i}"\nunit = "plant"\npost = "operator"\n'
        )
    return "\n".join(lines)


def prepare_wave(w: World, people: int, first_chat: int) -> None:
    """Arrange: people in the org, already joined (bound in the database) and with their
    chat open in the sandbox. Onboarding itself is tested elsewhere."""
    org = w.root / "org.toml"
    org.write_text(wave_org(people))
    w.execbot("org", "import", str(org))
    for i in range(people):
        w.client.create_person(f"P{i}", id=first_chat + i, started=True)
    with Session(w.engine) as session:
        for i in range(people):
            session.execute(
                update(Person)
                .where(col(Person.key) == f"p{i}")
                .values(telegram_user_id=first_chat + i)
            )
        session.commit()


def nudge_counts(w: World, chats: range) -> Counter[int]:
    counts: Counter[int] = Counter()
    for call in w.client.calls("sendMessage"):
        if call["status"] == 200 and HEADER.search(str(call["params"].get("text", ""))):
            counts[int(call["params"]["chat_id"])] += 1
    return Counter({chat: counts[chat] for chat in chats})


def test_sigkill_mid_wave_loses_nothing_and_provokes_no_429(tmp_path: Path) -> None:
    people, first = 300, 10_000
    chats = range(first, first + people)
    with world(tmp_path) as w:
        w.write_config()
        prepare_wave(w, people, first)
        bot = w.start_bot(EXECBOT_CLOCK_START="2026-11-17T06:59:58+01:00")
        w.wait(
            "the wave to be under way",
            lambda: sum(nudge_counts(w, chats).values()) >= 60,
            timeout=60,
        )
        bot.kill()
        mid = sum(nudge_counts(w, chats).values())
        assert mid < people, "the kill must land in the middle of the wave"
        bot = w.start_bot(EXECBOT_CLOCK_START="2026-11-17T07:00:20+01:00")
        w.wait("every person nudged", lambda: all(nudge_counts(w, chats).values()), timeout=120)
        time.sleep(2)
        counts = nudge_counts(w, chats)
        twice = [chat for chat, n in counts.items() if n > 1]
        assert all(n >= 1 for n in counts.values())
        assert len(twice) <= 32, f"{len(twice)} duplicates: more than could be in flight"
        assert w.client.counters()["429"] == 0
        with Session(w.engine) as session:
            states = Counter(o.state for o in session.exec(select(Outbox)).all())
            assert states == {"sent": people}
        print(f"\nkilled after {mid} of {people} nudges; duplicates after restart: {len(twice)}")


def test_injected_429_and_5xx_still_deliver_every_nudge(tmp_path: Path) -> None:
    people, first = 20, 20_000
    chats = range(first, first + people)
    with world(tmp_path) as w:
        w.write_config()
        prepare_wave(w, people, first)
        w.client.add_fault("error", method="sendMessage", status=500, count=2)
        w.client.add_fault("error", method="sendMessage", status=429, retry_after=1, count=1)
        w.client.add_fault("error", method="sendMessage", status=502, count=2)
        w.client.add_fault("drop", method="sendMessage", count=1)
        w.start_bot(EXECBOT_CLOCK_START="2026-11-17T06:59:58+01:00")
        w.wait("every person nudged", lambda: all(nudge_counts(w, chats).values()), timeout=90)
        time.sleep(2)
        counts = nudge_counts(w, chats)
        assert set(counts.values()) <= {1, 2}
        assert sum(counts.values()) <= people + 1  # only the dropped connection may duplicate
        statuses = Counter(c["status"] for c in w.client.calls("sendMessage"))
        assert statuses[500] == 2 and statuses[429] == 1 and statuses[502] == 2
        with Session(w.engine) as session:
            assert {o.state for o in session.exec(select(Outbox)).all()} == {"sent"}
