"""Item 5 at the service level, on SQLite and PostgreSQL: one bad row written straight into the
database (bypassing the import) does not stop the nudge or escalation pass for anybody else,
and the admin hears of it once. The org and helpers are those of the escalation service
tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.services import escalation, nudging, planning
from models.tables import Leadership, Occurrence, Person, Unit
from tests.services.test_escalation_service import (
    build,
    climb,
    duty,
    local,
    notice_rows,
    notices,
    occurrence,
    settings,
    start_day,
    texts_to,
)


def told_admin(engine: Engine) -> list[str]:
    return [t for t in texts_to(engine, "adm", kind="notice") if "could not handle" in t]


def test_item5_corrupt_snapshot_and_deep_tree_do_not_stop_escalation(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w2"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    pump = occurrence(engine, "pump").id
    with Session(engine) as session:
        session.execute(
            update(Occurrence)
            .where(col(Occurrence.id) == pump)
            .values(policy={"name": "standard", "levels": "garbage"})
        )
        tl = session.exec(select(Person).where(Person.key == "tl")).one()
        parent = session.exec(select(Unit.id).where(Unit.key == "team")).one()
        for level in range(1100):  # Willy moves to the bottom of a chain 1,100 units deep
            unit = Unit(key=f"deep-{level}", name="Deep", kind="unit", parent_id=parent)
            unit.created_at = unit.updated_at = local("06:00")
            session.add(unit)
            session.flush()
            session.add(Leadership(unit_id=unit.id or 0, role="leader", person_id=tl.id or 0))
            parent = unit.id
        session.execute(update(Person).where(col(Person.key) == "w1").values(unit_id=parent))
        session.commit()

    escalation.advance(engine, s, local("08:10"))  # level 1 of both items is due

    assert ("l0", "escalate", "tl") in notices(engine)  # Willy's silence reached Tina
    assert climb(engine, "reading")[2] == 1
    assert climb(engine, "pump")[2] == 0  # the bad item is left as it was
    assert told_admin(engine) == [
        f"execbot could not handle occurrence {pump} in the escalation pass and left it as it"
        " is: ValueError: policy.levels: expected a list, got 'garbage'. Everything else goes"
        " on. Please correct it (for a duty, person or unit: fix the org file and run execbot"
        " org import). You hear of this once."
    ]
    escalation.advance(engine, s, local("08:40"))  # level 2 for Willy; the bad item again
    assert ("l1", "escalate", "wh") in notices(engine)
    assert len(told_admin(engine)) == 1


def test_item5_unreadable_time_zone_does_not_stop_the_nudges(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w2"))
    s = settings()
    planning.plan(engine, s, local("06:00"))
    with Session(engine) as session:
        session.execute(
            update(Person).where(col(Person.key) == "w2").values(timezone="Mars/Olympus")
        )
        session.commit()

    nudging.queue_due(engine, s, local("07:00"))
    nudging.queue_due(engine, s, local("07:01"))
    planning.plan(engine, s, local("07:02"))  # meets the same person, cause and all

    assert len(texts_to(engine, "w1", kind="nudge")) == 1
    assert texts_to(engine, "w2", kind="nudge") == []
    assert occurrence(engine, "pump").nudge_state == "pending"  # not lost: nudged once fixed
    assert len(told_admin(engine)) == 1
    assert "could not handle person w2 in the nudge pass" in told_admin(engine)[0]

    with Session(engine) as session:  # corrected: the pending nudge goes out, late
        session.execute(update(Person).where(col(Person.key) == "w2").values(timezone=None))
        session.commit()
    nudging.queue_due(engine, s, local("07:30"))
    assert len(texts_to(engine, "w2", kind="nudge")) == 1


def test_item5_leader_with_unreadable_time_zone_does_not_stop_other_escalations(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("v1", "w3"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    with Session(engine) as session:
        session.execute(
            update(Person).where(col(Person.key) == "tl").values(timezone="Mars/Olympus")
        )
        session.commit()

    escalation.advance(engine, s, local("08:10"))  # Willy's item to Tina, Victor's to Walter
    escalation.advance(engine, s, local("08:11"))

    assert len(texts_to(engine, "wh")) == 1  # Walter hears of Victor's item
    assert texts_to(engine, "tl") == []  # Tina's message cannot be written; it stays pending
    assert [n for n in notice_rows(engine) if n.state == "pending"] != []
    assert len(told_admin(engine)) == 1
    assert "could not handle person tl in the escalation pass" in told_admin(engine)[0]
