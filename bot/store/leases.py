"""Named leases: one running instance at a time polls Telegram, sends the outbox, or runs a pass.

A lease is a row (name, holder, expires_at). Taking it is one atomic upsert: it succeeds when
the row is missing, already ours, or expired; then ``expires_at`` moves to now + ttl. The
holder renews it well before it expires; an instance that dies stops renewing and another
takes over after the ttl. Times come from the caller's wall clock (never a virtual test
clock), so instances on one database must have their clocks in step (NTP).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models.tables import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; False when another
    holder's lease is still running."""
    table = Lease.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        insert: Any = postgresql_insert(table)
    else:
        insert = sqlite_insert(table)
    statement = insert.values(
        name=name, holder=holder, acquired_at=now, expires_at=now + ttl
    ).on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": insert.excluded.holder,
            "acquired_at": _keep_if_ours(table, insert),
            "expires_at": insert.excluded.expires_at,
        },
        where=(table.c.holder == insert.excluded.holder) | (table.c.expires_at < now),
    )
    return session.execute(statement.returning(table.c.holder)).first() is not None


def _keep_if_ours(table: Any, insert: Any) -> Any:
    """``acquired_at`` stays when the holder renews; a new holder sets it."""
    return case(
        (table.c.holder == insert.excluded.holder, table.c.acquired_at),
        else_=insert.excluded.acquired_at,
    )


def release(session: Session, name: str, holder: str) -> bool:
    """Give the lease up now (a clean stop), so another instance need not wait for the ttl."""
    result = session.execute(
        delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def holder_of(session: Session, name: str, now: datetime) -> str | None:
    """Who holds the lease now (None: nobody, or it expired)."""
    lease = session.exec(select(Lease).where(Lease.name == name)).first()
    if lease is None or lease.expires_at <= now:
        return None
    return lease.holder


def all_leases(session: Session) -> list[Lease]:
    return list(session.exec(select(Lease).order_by(col(Lease.name))).all())
