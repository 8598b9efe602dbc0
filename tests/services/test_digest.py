"""The digest pass (bot.services.digest.send_due) on SQLite and PostgreSQL, over occurrences
stored by hand: each leader's digest is queued once per local day at digest_at (a second
pass, as after a restart, queues nothing), a day with nothing due records the day and sends
nothing, /digest off leaves a leader out, and the figures and trend are those worked out by
hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.services import digest, org_import
from models.tables import Duty, Occurrence, Outbox, Person, Report
from tests.adapters.test_digest import ORG

DAY = date(2026, 11, 17)  # a Tuesday
EAST_AT = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
PLANT_AT = datetime(2026, 11, 17, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
SETTINGS = Settings.model_validate({"reports": {"digest_at": "18:00"}})


def _arrange(engine: Engine, tmp_path: Path, days: dict[date, list[str]]) -> dict[str, int]:
    """The org of the adapter test, everyone with a chat, and w1..w3's occurrence of each
    day with the statuses given (due 09:00 Shanghai, 01:00 UTC)."""
    path = tmp_path / "org.toml"
    path.write_text(ORG)
    result = org_import.import_org(
        engine, [path], EAST_AT - timedelta(days=40), dry_run=False, policies={}
    )
    assert result.written, result.report()
    with Session(engine) as session:
        people = {p.key: p.id or 0 for p in session.exec(select(Person))}
        duty = session.exec(select(Duty)).first()
        assert duty is not None
        for pid in people.values():
            session.execute(
                update(Person).where(col(Person.id) == pid).values(telegram_user_id=1000 + pid)
            )
        rows: list[dict[str, Any]] = []
        for day, statuses in days.items():
            due = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
            for key, status in zip(("w1", "w2", "w3"), statuses, strict=True):
                late = status == "late-done"
                done_at = due + (timedelta(minutes=30) if late else -timedelta(minutes=10))
                rows.append(
                    {"duty_id": duty.id, "person_id": people[key], "day": day,
                     "number": 1, "nudge_at": due - timedelta(hours=1), "due_at": due,
                     "status": "done" if late else status, "status_at": done_at,
                     "created_at": due - timedelta(hours=2), "escalation_ended": status == "open"}
                )  # fmt: skip
        session.execute(insert(Occurrence), rows)
        session.commit()
    return people


def _texts(engine: Engine, person_id: int) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Outbox)
            .where(col(Outbox.kind) == "digest", col(Outbox.person_id) == person_id)
            .order_by(col(Outbox.id))
        )
        return [o.payload["text"] for o in rows]


def test_once_per_leader_and_day_with_the_figures_and_trend(engine: Engine, tmp_path: Path) -> None:
    monday = DAY - timedelta(days=1)
    people = _arrange(
        engine,
        tmp_path,
        {
            DAY - timedelta(days=29): ["late-done"] * 3,  # before the four weeks: not counted
            monday: ["done", "late-done", "done"],  # 2 of 3 on time: 67%
            DAY: ["done", "done", "open"],  # 2 of 3 (open: its escalation ended: not done)
        },
    )
    pm, ea = people["pm"], people["ea"]
    assert digest.send_due(engine, SETTINGS, EAST_AT - timedelta(seconds=1)) == 0
    assert digest.send_due(engine, SETTINGS, EAST_AT) == 1  # Egor, in Shanghai
    assert digest.send_due(engine, SETTINGS, EAST_AT) == 0  # again, as after a restart
    assert digest.send_due(engine, SETTINGS, PLANT_AT) == 1  # Paula, in Berlin
    assert digest.send_due(engine, SETTINGS, PLANT_AT + timedelta(hours=5)) == 0
    [east] = _texts(engine, ea)
    assert "• Wolf Three: 0% в срок ↓ · 0 с опозданием · 1 не выполнена · 0 открыто" in east
    assert "• Wanda Two: 100% в срок ↑ · 0 с опозданием" in east
    assert "• Willy One: 100% в срок → · 0 с опозданием" in east
    [plant] = _texts(engine, pm)
    assert plant.splitlines()[3] == (
        "• East: 67% on time → · 0 late · 1 not done · 0 open"
        " · blocks: process 0, skill 0, other 0 (held by Wolf Three 1)"
    )
    with Session(engine) as session:
        recorded = session.exec(select(Report.subject, Report.period)).all()
    assert sorted(recorded) == sorted(
        [(f"person:{ea}", "2026-11-17"), (f"person:{pm}", "2026-11-17")]
    )


def test_off_and_a_day_with_nothing_due(engine: Engine, tmp_path: Path) -> None:
    people = _arrange(engine, tmp_path, {DAY: ["done", "done", "done"]})
    digest.switch(engine, people["ea"], False, EAST_AT)
    assert digest.send_due(engine, SETTINGS, EAST_AT) == 0
    assert _texts(engine, people["ea"]) == []
    assert digest.switch(engine, people["ea"], None, EAST_AT) is False
    assert digest.switch(engine, people["ea"], True, EAST_AT) is True
    assert digest.send_due(engine, SETTINGS, EAST_AT) == 1
    # Wednesday: nothing was due: the day is recorded, nothing is sent
    assert digest.send_due(engine, SETTINGS, EAST_AT + timedelta(days=1)) == 0
    assert len(_texts(engine, people["ea"])) == 1
    with Session(engine) as session:
        periods = session.exec(select(Report.period)).all()
    assert sorted(periods) == ["2026-11-17", "2026-11-18"]


SHIFT_ORG = """
[shifts.kinds]
N = { start = "18:00", end = "06:00" }
[shifts.patterns.night-on-off]
cycle = ["N", "-"]
anchor = "2026-11-16"
[shifts.crews]
A = { pattern = "night-on-off", offset = 0 }

[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "sl"
timezone = "Europe/Berlin"

[[people]]
key = "sl"
name = "Sam Shift"
unit = "plant"
post = "shift leader"
crew = "A"

[[people]]
key = "op"
name = "Olga Op"
unit = "plant"
post = "op"

[[duties]]
key = "round"
title = "Round"
assignee = "op"
schedule = "daily"
nudge = "08:00"
due = "09:00"
"""


def test_a_shift_leader_gets_a_worked_days_digest_at_the_end_of_the_shift(
    engine: Engine, tmp_path: Path
) -> None:
    """Sam's crew works Monday's night (18:00 to Tuesday 06:00) and is off on Tuesday: Monday's
    digest comes at 06:00 on Tuesday, Tuesday's at digest_at (18:00); Olga was on time on
    Monday and late on Tuesday."""
    path = tmp_path / "org.toml"
    path.write_text(SHIFT_ORG)
    assert org_import.import_org(engine, [path], EAST_AT - timedelta(days=40), dry_run=False)
    monday = DAY - timedelta(days=1)
    with Session(engine) as session:
        people = {p.key: p.id or 0 for p in session.exec(select(Person))}
        duty = session.exec(select(Duty)).one()
        session.execute(update(Person).values(telegram_user_id=col(Person.id) + 1000))
        rows = []
        for day, minutes in ((monday, -10), (DAY, 30)):
            due = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
            rows.append(
                {"duty_id": duty.id, "person_id": people["op"], "day": day, "number": 1,
                 "nudge_at": due - timedelta(hours=1), "due_at": due, "status": "done",
                 "status_at": due + timedelta(minutes=minutes), "created_at": due}
            )  # fmt: skip
        session.execute(insert(Occurrence), rows)
        session.commit()
    sl = people["sl"]
    shift_end = datetime(2026, 11, 17, 5, 0, tzinfo=UTC)  # Tuesday 06:00 in Berlin
    assert digest.send_due(engine, SETTINGS, shift_end - timedelta(seconds=1)) == 0
    assert digest.send_due(engine, SETTINGS, shift_end) == 1
    assert digest.send_due(engine, SETTINGS, shift_end + timedelta(hours=2)) == 0
    [first] = _texts(engine, sl)
    assert first.splitlines()[0] == "Daily digest for Mon, Nov 16"
    assert "• Olga Op: 100% on time · 0 late" in first
    assert digest.send_due(engine, SETTINGS, PLANT_AT - timedelta(seconds=1)) == 0
    assert digest.send_due(engine, SETTINGS, PLANT_AT) == 1  # Tuesday, a day off: at 18:00
    second = _texts(engine, sl)[1]
    assert second.splitlines()[0] == "Daily digest for Tue, Nov 17"
    assert "• Olga Op: 0% on time ↓ · 1 late" in second
