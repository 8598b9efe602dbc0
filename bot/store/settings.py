"""Settings stored in the database (learned at run time, not configured)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models.tables import Setting

BOT_USERNAME_SETTING = "bot_username"  # learned from getMe at start-up, used in invite links
SENDS_PAUSED_SETTING = "sends_paused_until"  # after a 429: no instance sends before this instant


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def put_setting(session: Session, key: str, value: str, now: datetime) -> None:
    """Store ``value`` under ``key``: one atomic upsert, so instances starting together (each
    remembering the bot's username) never collide on the key."""
    table = Setting.__table__  # type: ignore[attr-defined]
    insert: Any = (
        postgresql_insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite_insert(table)
    )
    session.execute(
        insert.values(key=key, value=value, updated_at=now).on_conflict_do_update(
            index_elements=["key"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
    )
    for loaded in list(session.identity_map.values()):  # an object read before is stale now
        if isinstance(loaded, Setting) and loaded.key == key:
            session.expire(loaded)


def sends_paused_until(session: Session) -> datetime | None:
    """The instant (wall clock, UTC) before which no instance may send, after a 429."""
    value = get_setting(session, SENDS_PAUSED_SETTING)
    return datetime.fromisoformat(value) if value else None


def pause_sends(session: Session, until: datetime, now: datetime) -> None:
    """Every instance holds its sends until ``until`` (a later pause stored before stays)."""
    current = sends_paused_until(session)
    if current is None or current < until:
        put_setting(session, SENDS_PAUSED_SETTING, until.isoformat(), now)


def settings_under(session: Session, prefix: str) -> dict[str, str]:
    """Every stored setting whose key starts with ``prefix``, by key."""
    query = select(Setting).where(col(Setting.key).startswith(prefix, autoescape=True))
    return {row.key: row.value for row in session.exec(query)}


def delete_setting(session: Session, key: str) -> None:
    row = session.get(Setting, key)
    if row is not None:
        session.delete(row)
