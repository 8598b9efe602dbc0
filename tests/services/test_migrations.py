"""Migrations the way users meet them: an empty database upgraded to head, and a database
whose schema is newer than the code refused with a clear message."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from bot import app as bot_app
from bot.config import Settings
from bot.runtime import Runtime
from bot.store import audit, migrate
from models.tables import Occurrence, Outbox, Person
from tests.conftest import NOW


def test_upgrade_from_empty_creates_every_table(empty_engine: Engine) -> None:
    assert migrate.schema_state(empty_engine).current is None
    migrate.upgrade(empty_engine)
    state = migrate.schema_state(empty_engine)
    assert state.up_to_date and state.current == migrate.head_revision()
    tables = set(inspect(empty_engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    migrate.upgrade(empty_engine)  # a second run is harmless
    assert migrate.schema_state(empty_engine).up_to_date


def test_models_match_the_migrations(engine: Engine) -> None:
    """The tables, columns, indexes and constraints of ``models.tables`` are what the
    migrations make: nothing added to a model without its migration, or the other way."""
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_startup_upgrades_an_empty_database(empty_engine: Engine) -> None:
    bot_app.prepare_database(Runtime(Settings(), empty_engine))
    assert migrate.schema_state(empty_engine).up_to_date


def test_startup_without_auto_migrate_asks_for_upgrade(empty_engine: Engine) -> None:
    settings = Settings.model_validate({"database": {"auto_migrate": False}})
    with pytest.raises(bot_app.StartupError, match="run `execbot db upgrade`"):
        bot_app.prepare_database(Runtime(settings, empty_engine))


def test_newer_schema_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    state = migrate.schema_state(engine)
    assert state.newer_than_code
    with pytest.raises(bot_app.StartupError) as caught:
        bot_app.prepare_database(Runtime(Settings(), engine))
    assert "schema is at revision 9999_future, which this execbot does not know" in str(
        caught.value
    )
    with pytest.raises(migrate.SchemaTooNew):
        migrate.upgrade(engine)
    with engine.connect() as conn:  # nothing was touched
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "9999_future"
        )


def test_audit_log_is_append_only_in_the_database(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(session, "test.event", NOW, subject="x", data={"a": 1})
        session.commit()
    for statement in ("UPDATE audit_event SET kind = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with Session(engine) as session:
        events = audit.events(session)
        assert [(e.kind, e.data, e.at) for e in events] == [("test.event", {"a": 1}, NOW)]


def test_upgrade_keeps_the_data_of_the_first_release(empty_engine: Engine) -> None:
    """A database made by the first release (schema 0001), with rows in it, upgraded to the
    newest schema: every row survives and new columns get their defaults."""
    migrate.upgrade(empty_engine, "0001")
    at = datetime(2026, 11, 20, 6, 0)  # as release 0001 wrote it on SQLite: UTC, no offset
    stamps = {"created_at": at, "updated_at": at}
    rows = [
        (
            "unit",
            {"id": 1, "key": "plant", "name": "Plant", "kind": "plant", "active": True} | stamps,
        ),
        (
            "person",
            {
                "id": 1,
                "key": "a",
                "name": "Anna",
                "unit_id": 1,
                "post": "op",
                "language": "en",
                "telegram_user_id": 5001,
                "active": True,
            }
            | stamps,
        ),
        (
            "duty",
            {
                "id": 1,
                "key": "d",
                "title": "Duty",
                "details": "",
                "schedule": '"workdays"',
                "due": "09:00",
                "evidence": "none",
                "urgent": False,
                "active": True,
            }
            | stamps,
        ),
        (
            "occurrence",
            {
                "id": 1,
                "duty_id": 1,
                "person_id": 1,
                "day": date(2026, 11, 20),
                "nudge_at": at,
                "due_at": at,
                "status": "done",
                "status_at": at,
                "created_at": at,
            },
        ),
        (
            "outbox",
            {
                "id": 1,
                "created_at": at,
                "chat_id": 5001,
                "kind": "greeting",
                "payload": "{}",
                "state": "sent",
                "attempts": 1,
                "next_attempt_at": at,
            },
        ),
    ]
    with empty_engine.begin() as conn:
        for table, values in rows:
            names = ", ".join(values)
            params = ", ".join(f":{name}" for name in values)
            conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({params})"), values)
    migrate.upgrade(empty_engine)
    assert migrate.schema_state(empty_engine).up_to_date
    with Session(empty_engine) as session:
        occurrence = session.get(Occurrence, 1)
        assert occurrence is not None
        assert (occurrence.status, occurrence.number, occurrence.nudge_state) == (
            "done",
            0,
            "pending",
        )
        person = session.get(Person, 1)
        assert person is not None and person.telegram_user_id == 5001 and person.crew is None
        outbox = session.get(Outbox, 1)
        assert outbox is not None and outbox.state == "sent" and outbox.claimed_at is None
