"""Nudges (scheduler/jobs.py: the plan and nudge passes, and the sender), in-process on the
default config: the right nudge at the right time in two timezones, none for a person away and
none twice; a person who joins after the nudge time still gets the day's duties, marked late.
The passes run when the test says, at the fake clock (``execbot run`` runs them every tick)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.store.org import person_by_key
from models.tables import Occurrence, Outbox
from tests.adapters.harness import Harness, harness

BERLIN_START = datetime.fromisoformat("2026-11-17T06:59:30+01:00")  # a Tuesday
HEADER = re.compile(r"your duties for")
ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "boss"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "plant"

[[people]]
key = "boss"
name = "Bea Boss"
unit = "plant"
post = "manager"

[[people]]
key = "ber"
name = "Berta Berlin"
unit = "team"
post = "operator"

[[people]]
key = "ny"
name = "Nick York"
unit = "team"
post = "operator"
timezone = "America/New_York"

[[people]]
key = "away"
name = "Alex Away"
unit = "team"
post = "operator"

[[absences]]
person = "away"
from = "2026-11-16"
to = "2026-11-20"
kind = "leave"

[[duties]]
key = "reading"
title = "Record the meter readings"
post = "operator"
unit = "team"
nudge = "07:00"
due = "09:00"

[[duties]]
key = "valves"
title = "Check the valves"
assignee = "ber"
nudge = "07:00"
due = "+3h"
"""


@pytest.fixture
async def plant(tmp_path: Path, template_db: Path) -> AsyncIterator[Harness]:
    """The org above on the default config (as ``execbot run`` without a config file)."""
    async with harness(tmp_path, template_db, BERLIN_START) as h:
        h.import_org(ORG)
        yield h
        assert not h.errors.records, h.errors.records


async def nudges(h: Harness, chat: int) -> list[dict[str, Any]]:
    return [m for m in await h.messages(chat) if HEADER.search(m["text"] or "")]


async def join(h: Harness, key: str, chat: int, name: str) -> None:
    await h.people.create_person(name, id=chat)
    await h.people.send_command(chat, "start", h.invite_code(key))
    await h.message(chat, "Hello")


async def ticks(h: Harness, count: int = 3) -> None:
    """A few more passes, a second apart, and every message they made sent."""
    for _ in range(count):
        h.clock.advance(seconds=1)
        await h.run_pass("plan", "nudges")
    await h.wait("the outbox sent", lambda: not unsent(h))


def unsent(h: Harness) -> list[Outbox]:
    with h.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.state != "sent")).all())


async def test_right_nudges_at_the_right_times_in_two_timezones(plant: Harness) -> None:
    h = plant
    await h.start_bot()
    await h.run_pass("plan", "nudges")  # 06:59:30 in Berlin: too early for anyone
    await join(h, "ber", 701, "Berta")
    await join(h, "ny", 702, "Nick")
    await join(h, "away", 703, "Alex")
    await ticks(h)
    assert await nudges(h, 701) == []

    h.clock.set(datetime.fromisoformat("2026-11-17T07:00:00+01:00"))
    await h.run_pass("plan", "nudges")
    [berta] = await h.until("Berta's nudge", lambda: nudges(h, 701))
    text = berta["text"]
    assert "Berta Berlin, your duties for Tue, Nov 17:" in text
    assert "1. Record the meter readings (due 09:00)" in text
    assert "2. Check the valves (due 10:00)" in text
    labels = [b["text"] for row in berta["buttons"] for b in row]
    assert labels == [
        "1 ✅ Done",
        "1 ⛔ Blocked",
        "1 🕒 Later",
        "2 ✅ Done",
        "2 ⛔ Blocked",
        "2 🕒 Later",
    ]
    await ticks(h)  # a few more passes: nothing else may arrive
    assert len(await nudges(h, 701)) == 1
    assert await nudges(h, 702) == [] and await nudges(h, 703) == []

    nudge_at = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
    with h.session() as session:
        sent = session.exec(select(Outbox).where(Outbox.kind == "nudge")).all()
        assert [(o.chat_id, o.state) for o in sent] == [(701, "sent")]
        assert sent[0].sent_at is not None
        assert nudge_at <= sent[0].sent_at < nudge_at + timedelta(seconds=5)
        assert sent[0].telegram_message_id == berta["message_id"]

    # Just before 07:00 in New York (12:00 UTC), then 07:00.
    h.clock.set(datetime.fromisoformat("2026-11-17T06:59:50-05:00"))
    await ticks(h)
    assert await nudges(h, 702) == []
    h.clock.set(datetime.fromisoformat("2026-11-17T07:00:00-05:00"))
    await h.run_pass("plan", "nudges")
    [nick] = await h.until("Nick's nudge", lambda: nudges(h, 702))
    assert "1. Record the meter readings (due 09:00)" in nick["text"]
    await ticks(h)
    assert len(await nudges(h, 701)) == 1 and len(await nudges(h, 702)) == 1
    assert await nudges(h, 703) == []
    with h.session() as session:
        away = person_by_key(session, "away")
        assert away is not None
        rows = session.exec(select(Occurrence).where(Occurrence.person_id == away.id)).all()
        assert {(r.day, r.status) for r in rows} == {
            (date(2026, 11, 17), "absent"),
            (date(2026, 11, 18), "absent"),  # planned a day ahead; away until the 20th
        }
        assert [r.nudge_state for r in rows if r.day == date(2026, 11, 17)] == ["none"]
        ny_sent = session.exec(select(Outbox).where(Outbox.chat_id == 702)).all()
        ny_at = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
        assert [o.state for o in ny_sent if o.kind == "nudge"] == ["sent"]
        for sent_nudge in (o for o in ny_sent if o.kind == "nudge"):
            assert sent_nudge.sent_at is not None
            assert ny_at <= sent_nudge.sent_at < ny_at + timedelta(seconds=5)
    assert (await h.people.counters())["429"] == 0


async def test_a_person_who_joins_after_the_nudge_time_still_gets_the_days_duties(
    plant: Harness,
) -> None:
    """Found when the suite ran under load: a worker who opens the invite at 07:20 for duties
    nudged at 07:00 and due at 09:00 never heard of them ("no_chat" was final). Joining puts
    the open, not yet due duties back to the nudge pass, which sends them marked late."""
    h = plant
    h.clock.set(datetime.fromisoformat("2026-11-17T07:20:00+01:00"))  # Berlin
    await h.start_bot()
    await h.run_pass("plan", "nudges")
    with h.session() as session:  # the 07:00 nudge found nobody to send to
        ber = person_by_key(session, "ber")
        assert ber is not None
        missed = select(Occurrence).where(
            Occurrence.person_id == ber.id, Occurrence.nudge_state == "no_chat"
        )
        assert session.exec(missed).all()
    await join(h, "ber", 701, "Berta")
    await h.run_pass("nudges")
    [berta] = await h.until("Berta's nudge", lambda: nudges(h, 701))
    assert "1. Record the meter readings (due 09:00)" in berta["text"]
    assert "Sent late" in berta["text"]
    await ticks(h)  # a few more passes: it comes once
    assert len(await nudges(h, 701)) == 1
