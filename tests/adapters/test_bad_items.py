"""Item 5 in-process: rows the import would refuse, written straight into the database (a duty
due "+2950000d", a person with an unknown time zone and a nudge pending, an occurrence with a
corrupt policy snapshot, a unit tree 1,100 levels deep) do not stop the planning, nudge or
escalation pass for anybody else, and the admin hears of each bad item once. The passes run
where ``execbot run``'s one-second tick would have; the bot's log is read from the records."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.services import planning
from models.tables import Duty, Leadership, Occurrence, Person, Unit
from tests.adapters.harness import Harness, harness

W1, W3, TL, PM, DEEP, W4 = 951, 953, 954, 955, 956, 957
START = datetime.fromisoformat("2026-11-17T06:59:50+01:00")  # a Tuesday, Berlin
DEPTH = 1100
PASSES = ("plan", "nudges", "escalation", "reports", "dead")


ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "pm"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "plant"
leader = "tl"

[[people]]
key = "pm"
name = "Paula Manager"
unit = "plant"
post = "plant manager"

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
name = "Walt Three"
unit = "team"
post = "operator"

[[people]]
key = "w4"
name = "Wes Four"
unit = "team"
post = "operator"

[[people]]
key = "deep"
name = "Dee Deep"
unit = "team"
post = "operator"

[[duties]]
key = "reading"
title = "Read the meters"
assignee = "w1"
nudge = "07:00"
due = "+20s"

[[duties]]
key = "forever"
title = "Count the stock"
assignee = "w2"
nudge = "07:00"
due = "+1h"

[[duties]]
key = "pump"
title = "Service the pump"
assignee = "w3"
nudge = "07:00"
due = "+1h"

[[duties]]
key = "sweep"
title = "Sweep the floor"
assignee = "w4"
nudge = "07:00"
due = "+1h"

[[duties]]
key = "deep-check"
title = "Check the valve"
assignee = "deep"
nudge = "07:00"
due = "+20s"
"""

CONFIG = """
[access]
admins = ["pm"]
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [{ after = "8s", notify = "next" }, { after = "1h", notify = "next" }]
"""


async def wait_text(h: Harness, chat: int, pattern: str) -> None:
    async def probe() -> bool:
        return any(re.search(pattern, t) for t in await h.texts(chat))

    await h.until(f"{pattern!r} in chat {chat}", probe)


async def tick(h: Harness, seconds: float = 1) -> None:
    h.clock.advance(seconds=seconds)
    await h.run_pass(*PASSES)


def corrupt(engine: Engine) -> int:
    """Write what the import refuses straight into the database; returns the id of the
    occurrence with a corrupt policy snapshot."""
    with Session(engine) as session:
        ids = {p.key: p.id or 0 for p in session.exec(select(Person)).all()}
        session.execute(update(Duty).where(col(Duty.key) == "forever").values(due="+2950000d"))
        session.execute(
            update(Person).where(col(Person.key) == "w4").values(timezone="Mars/Olympus")
        )
        team = session.exec(select(Unit).where(Unit.key == "team")).one()
        parent, now = team.id, START
        for level in range(DEPTH):  # a chain of units under the team, each led by Tina
            unit = Unit(
                key=f"deep-{level}", name=f"Deep {level}", kind="unit", parent_id=parent,
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(unit)
            session.flush()
            session.add(Leadership(unit_id=unit.id or 0, role="leader", person_id=ids["tl"]))
            parent = unit.id
        session.execute(update(Person).where(col(Person.key) == "deep").values(unit_id=parent))
        # w4's nudge, already planned before the time zone went bad; and an earlier item of
        # w3's whose policy snapshot no longer reads, due for its next step right away
        sweep = session.exec(select(Duty).where(Duty.key == "sweep")).one()
        pump = session.exec(select(Duty).where(Duty.key == "pump")).one()
        day, seven = START.date(), START + timedelta(seconds=10)
        rows: list[dict[str, object]] = [
            {"duty_id": sweep.id, "person_id": ids["w4"], "nudge_at": seven,
             "due_at": seven + timedelta(hours=1), "nudge_state": "pending", "number": 1},
            {"duty_id": pump.id, "person_id": ids["w3"], "day": day - timedelta(days=1),
             "nudge_at": seven - timedelta(days=1), "due_at": seven - timedelta(hours=23),
             "nudge_state": "queued", "number": 1, "next_step_at": START,
             "policy": {"name": "standard", "levels": "garbage"}},
        ]  # fmt: skip
        common: dict[str, object] = {"day": day, "status": "open"}
        common |= {"status_at": START, "created_at": START}
        for row in rows:
            session.execute(insert(Occurrence).values(**(common | row)))
        session.commit()
        bad = session.exec(select(Occurrence.id).where(Occurrence.person_id == ids["w3"])).one()
        return int(bad or 0)


async def test_item5_bad_rows_do_not_stop_the_passes_and_admin_hears_once(
    tmp_path: Path, template_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the bot runs with --log-level DEBUG end to end
    latency = (0.1, 0.3)
    async with harness(tmp_path, template_db, START, config_extra=CONFIG, latency=latency) as h:
        h.import_org(ORG)
        await h.bind({"w1": W1, "w3": W3, "tl": TL, "pm": PM, "deep": DEEP, "w4": W4})
        bad_occurrence = corrupt(h.engine)
        # The day planned from here, as the bot's first planning pass would: the bad duty and
        # person are left out, everybody else is planned.
        planning.plan(h.engine, h.settings, START)
        await h.start_bot()
        await h.run_pass(*PASSES)
        await tick(h, 10)  # 07:00, the nudges
        await tick(h, 29)  # 07:00:29: past the due time (+20s) and level 1 (8s)

        # Everybody else is planned and nudged, and silence climbs, the deep tree included.
        await wait_text(h, W1, "your duties for")
        await wait_text(h, W3, "your duties for")
        await wait_text(h, DEEP, "your duties for")
        await wait_text(h, TL, r"Willy One — 1\. Read the meters: no answer")
        await wait_text(h, TL, r"Dee Deep — 1\. Check the valve: no answer")

        # The admin hears of each bad item once, however many passes meet it.
        problems = {
            "duty forever": "planning",
            "person w4": "planning",
            f"occurrence {bad_occurrence}": "escalation",
        }
        for item, pass_name in problems.items():
            await wait_text(h, PM, f"could not handle {item} in the {pass_name} pass")
        for _ in range(3):  # three more ticks
            await tick(h)
        log = [r.getMessage() for r in caplog.records]
        for item in (f"occurrence {bad_occurrence}", "person w4"):  # met again every tick
            met = sum(f"{item} still fails" in line for line in log)
            assert met >= 3, f"{item} met by {met} more passes"
        await h.settle()
        told = [t for t in await h.texts(PM) if "could not handle" in t]
        assert len(told) == len(problems), told
        assert not await h.texts(W4), "w4's nudge cannot be written and stays pending"
        assert "RecursionError" not in caplog.text
        assert not h.errors.records, h.errors.records
