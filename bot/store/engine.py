"""The database engine: SQLite file by default (WAL, foreign keys on), PostgreSQL by URL.

SQLite pragmas are per connection, so they are set in a ``connect`` listener. ``journal_mode``
is stored in the file once set. Sessions are synchronous; the async shell runs them in a thread
(see ``bot.runner``) so the event loop never waits on a query.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from bot.store import sqlite_writer

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, *, echo: bool = False, connections: int | None = None) -> Engine:
    """Create the engine for ``url``; for a SQLite file, create its folder and set the pragmas.
    ``connections``: how many threads may hold a connection at once (the running bot: its
    inbox workers, the sender and the passes); the pool's default, 5 + 10 overflow, would
    make the workers queue for a connection."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if connections is not None and parsed.database not in (None, "", ":memory:"):
        kwargs["pool_size"] = max(5, connections // 2)
        kwargs["max_overflow"] = max(10, connections - kwargs["pool_size"])
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            _private_file(Path(database).expanduser())
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        sqlite_writer.install(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)  # writers queue in-process
    return engine


def _private_file(path: Path) -> None:
    """A new SQLite file and its folder are the owner's only (0600 / 0700); SQLite gives its
    -wal and -shm files the database file's mode. An existing file keeps the mode it has."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def redact_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def write_now(session: Session) -> None:
    """Send the session's pending writes now (ids assigned, constraints checked), inside the
    transaction: a later step may count on them."""
    session.flush()
