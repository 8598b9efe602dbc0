"""SQLite writers queue on one in-process lock (bot.store.sqlite_writer): a second writer
waits while a transaction that wrote is open and goes on the moment it commits, rolls back or
its connection returns to the pool; reads never wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.store import sqlite_writer
from bot.store.engine import make_engine


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}", connections=4)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        conn.execute(text("INSERT INTO t (v) VALUES (0)"))
    return engine


def _write_in_thread(engine: Engine, value: int) -> tuple[threading.Thread, list[float]]:
    done: list[float] = []

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE t SET v = :v"), {"v": value})
        done.append(time.monotonic())

    thread = threading.Thread(target=write)
    thread.start()
    return thread, done


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as first:
        first.execute(text("UPDATE t SET v = 1"))  # holds the writer lock from here
        assert first.info.get(sqlite_writer.HELD) is True
        thread, done = _write_in_thread(engine, 2)
        time.sleep(0.3)
        assert done == []  # waiting, not failed
        with engine.connect() as reader:  # reads do not wait
            assert reader.execute(text("SELECT v FROM t")).scalar_one() == 0
        committed = time.monotonic()
        first.commit()
        thread.join(5)
    assert done and done[0] - committed < 0.5  # went on at the commit, no busy-handler sleeps
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM t")).scalar_one() == 2


def test_a_rollback_and_a_connection_returned_release_the_lock(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as first:
        first.execute(text("UPDATE t SET v = 1"))
        first.rollback()
        assert sqlite_writer.HELD not in first.info
    thread, done = _write_in_thread(engine, 3)
    thread.join(2)
    assert done  # not held after the rollback

    conn = engine.connect()
    conn.execute(text("UPDATE t SET v = 4"))
    conn.close()  # back to the pool uncommitted: rolled back and released
    thread, done = _write_in_thread(engine, 5)
    thread.join(2)
    assert done
    with engine.connect() as check:
        assert check.execute(text("SELECT v FROM t")).scalar_one() == 5
