"""Rows in and out in bulk (``bot.store.bulk``), on SQLite and PostgreSQL: what
``insert_rows`` stores, and what ``select_rows`` reads, are what SQLAlchemy's own insert and
select store and read, value for value (instants in UTC, JSON documents, dates, booleans,
defaults), with shared and with equal-but-separate values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.services.org_import import import_org
from bot.store import bulk
from models.tables import Duty, Occurrence, Person
from tests.conftest import EXAMPLE_ORG, NOW

TABLE = Occurrence.__table__  # type: ignore[attr-defined]
FIELDS = (
    *("duty_id", "person_id", "day", "number", "nudge_at", "due_at", "status", "status_at"),
    *("nudge_state", "created_at", "policy", "urgent", "next_step_at", "reminders_sent"),
)


def rows(duty_ids: list[int], person_ids: list[int]) -> list[dict[str, Any]]:
    """Occurrences with shared values (one policy dict, one ``now``) and equal values that are
    separate objects, instants in other zones than UTC, and None."""
    policy = {"name": "standard", "levels": [{"after": "30m", "notify": "next"}]}
    berlin = timezone(timedelta(hours=1))
    out = []
    for i, (duty_id, person_id) in enumerate(zip(duty_ids, person_ids, strict=True)):
        nudge = datetime(2026, 11, 24, 7, i % 3, tzinfo=berlin)  # a new object every row
        out.append(
            {
                "duty_id": duty_id,
                "person_id": person_id,
                "day": date(2026, 11, 24 + i % 2),
                "number": i + 1,
                "nudge_at": nudge,
                "due_at": nudge + timedelta(hours=2),
                "status": "open" if i % 2 else "absent",
                "status_at": NOW,
                "nudge_state": "pending",
                "created_at": NOW,
                "policy": policy if i % 3 else {"name": f"own {i}"},
                "urgent": bool(i % 2),
                "next_step_at": None if i % 2 else NOW + timedelta(minutes=i),
            }
        )
    return out


def stored(session: Session) -> list[tuple[Any, ...]]:
    found = session.execute(select(TABLE).order_by(TABLE.c.duty_id, TABLE.c.person_id)).all()
    return [tuple(getattr(row, name) for name in FIELDS) for row in found]


def test_insert_rows_stores_what_a_core_insert_stores(engine: Engine) -> None:
    assert import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False).written
    with Session(engine) as session:
        duty_ids = list(session.execute(select(col(Duty.id)).order_by(col(Duty.id))).scalars())
        person_ids = list(session.execute(select(col(Person.id))).scalars())
    pairs = [(d, p) for d in duty_ids[:3] for p in person_ids[:4]]
    made = rows([d for d, _ in pairs], [p for _, p in pairs])
    with Session(engine) as session:
        session.execute(insert(TABLE), made)
        expected = stored(session)
        session.rollback()
    with Session(engine) as session:
        bulk.insert_rows(session, TABLE, made)
        session.commit()
    with Session(engine) as session:
        got = stored(session)
    assert got == expected
    assert got[0][4].tzinfo == UTC and got[0][4] == made[0]["nudge_at"]
    assert got[0][-1] == 0  # reminders_sent: left out, its default


def test_select_rows_reads_what_a_core_select_reads(engine: Engine) -> None:
    assert import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False).written
    with Session(engine) as session:
        duty_ids = list(session.execute(select(col(Duty.id)).order_by(col(Duty.id))).scalars())
        person_ids = list(session.execute(select(col(Person.id))).scalars())
        pairs = [(d, p) for d in duty_ids[:3] for p in person_ids[:4]]
        bulk.insert_rows(session, TABLE, rows([d for d, _ in pairs], [p for _, p in pairs]))
        session.commit()
    query = select(*(TABLE.c[name] for name in FIELDS if name != "policy")).order_by(
        TABLE.c.duty_id, TABLE.c.person_id
    )
    with Session(engine) as session:
        expected = [tuple(row) for row in session.execute(query).all()]
        got = bulk.select_rows(session, query)
        assert bulk.select_rows(session, query.where(TABLE.c.number < 0)) == []
    assert got == expected
    assert all(isinstance(row[2], date) and row[4].tzinfo == UTC for row in got)


def test_insert_rows_of_nothing_does_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        bulk.insert_rows(session, TABLE, [])
        session.commit()
        assert session.execute(select(TABLE)).first() is None
