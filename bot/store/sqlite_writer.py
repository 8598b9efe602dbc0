"""One writer at a time on SQLite, queued in the process instead of in SQLite's busy handler.

SQLite lets one connection write at a time. A second writer gets SQLITE_BUSY and its busy
handler sleeps and tries again (1, 2, 5, 10, ... up to 100 ms between tries), so under many
writers (a reply storm: sixteen inbox workers recording taps and queueing their edits, the
bookkeeping, the poller storing updates, the sender) the lock sits free while the waiters
sleep, and a tap's commit waited seconds. Here a connection about to write first takes a
process-wide lock, held until its transaction ends: the waiters queue on it and the next one
starts the moment the previous commits. Reads take nothing (WAL: they never wait).

The lock is taken at a connection's first INSERT / UPDATE / DELETE of a transaction (where
Python's sqlite3 begins one) and given back at its commit or rollback, or at the latest when
the connection returns to the pool. A writer that cannot get it within SQLite's own busy
timeout goes on without it (SQLite then decides, as before).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH")  # WITH ... UPDATE (claims)
HELD = "execbot_sqlite_writer"  # in the pooled connection's info while it holds the lock


class WriterGate:
    def __init__(self, timeout: float) -> None:
        self.lock = threading.Lock()
        self.timeout = timeout

    def before_execute(
        self, conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        info = conn.info
        if info.get(HELD) is not None:
            return
        writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
        if not writes:
            head = statement.lstrip()[:7].upper()
            if not head.startswith(WRITES):
                return
            if head.startswith("WITH") and "UPDATE" not in statement.upper():
                return
        info[HELD] = self.lock.acquire(timeout=self.timeout)

    def release(self, conn: Any, *_args: Any) -> None:
        self._release(conn.info)

    def release_record(self, _dbapi_connection: Any, record: Any, *_args: Any) -> None:
        self._release(record.info)

    def _release(self, info: dict[str, Any]) -> None:
        held = info.pop(HELD, None)
        if held:
            self.lock.release()


def install(engine: Engine, timeout: float) -> WriterGate:
    """Queue this engine's writers on one lock (SQLite engines only)."""
    gate = WriterGate(timeout)
    event.listen(engine, "before_cursor_execute", gate.before_execute)
    event.listen(engine, "commit", gate.release)
    event.listen(engine, "rollback", gate.release)
    event.listen(engine.pool, "checkin", gate.release_record)
    return gate
