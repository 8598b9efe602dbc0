"""Migration 0010 on SQLite and PostgreSQL: people stored before it get a language source
("org" for a language other than "en", which only the org file could have set; "default" for
"en", which may have been only the old default), and it goes down and up again."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.store import migrate


def test_people_stored_before_get_a_language_source(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0009")
    at = datetime(2026, 11, 20, 6, 0)
    stamps = {"created_at": at, "updated_at": at}
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (id, key, name, kind, active, created_at, updated_at) "
                "VALUES (1, 'plant', 'Plant', 'plant', true, :created_at, :updated_at)"
            ),
            stamps,
        )
        for pid, key, language in ((1, "anna", "en"), (2, "boris", "ru"), (3, "chen", "zh")):
            conn.execute(
                text(
                    "INSERT INTO person (id, key, name, unit_id, post, language, active, "
                    "created_at, updated_at) VALUES (:id, :key, :key, 1, 'op', :language, true, "
                    ":created_at, :updated_at)"
                ),
                {"id": pid, "key": key, "language": language} | stamps,
            )
    migrate.upgrade(empty_engine)
    assert migrate.schema_state(empty_engine).up_to_date

    def sources() -> dict[str, str]:
        with empty_engine.connect() as conn:
            rows = conn.execute(text("SELECT key, language_source FROM person ORDER BY key"))
            return {key: source for key, source in rows}

    assert sources() == {"anna": "default", "boris": "org", "chen": "org"}
    config = migrate.alembic_config()
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    with empty_engine.connect() as conn:
        assert "language_source" not in {c["name"] for c in inspect(conn).get_columns("person")}
    migrate.upgrade(empty_engine)
    assert sources() == {"anna": "default", "boris": "org", "chen": "org"}
