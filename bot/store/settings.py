"""Settings stored in the database (learned at run time, not configured)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.tables import Setting

BOT_USERNAME_SETTING = "bot_username"  # learned from getMe at start-up, used in invite links


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def put_setting(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value, updated_at=now)
    else:
        row.value, row.updated_at = value, now
    session.add(row)
