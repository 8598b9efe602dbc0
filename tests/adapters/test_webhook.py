"""The webhook route over real HTTP (bot.delivery.webhook): forged requests are refused and
store nothing; a real update is answered 200 only once it is committed to the inbox, 500 when
the database fails (Telegram delivers it again), and an update delivered twice is stored once.
On SQLite and on PostgreSQL (skipped where it does not answer)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.delivery.webhook import MAX_BODY
from bot.metrics import UPDATES_RECEIVED
from bot.store.engine import make_engine
from models.tables import InboxUpdate
from tests.adapters.serving import SECRET, inbox_rows, message_update, served, settings_for

VALID = json.dumps(message_update(1001))


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


FORGED: list[tuple[str, str | bytes, str | None, int]] = [
    ("missing secret", VALID, None, 401),
    ("wrong secret", VALID, SECRET + "x", 401),
    ("empty secret", VALID, "", 401),
    ("secret of another length", VALID, "s", 401),
    ("oversized body", '{"update_id": 5, "pad": "' + "x" * MAX_BODY + '"}', SECRET, 413),
    ("invalid JSON", '{"update_id": 5,', SECRET, 400),
    ("not UTF-8", b"\xff\xfe{}", SECRET, 400),
    ("JSON without update_id", '{"message": {"text": "hi"}}', SECRET, 400),
    ("update_id not an integer", '{"update_id": "5"}', SECRET, 400),
    ("update_id a boolean", '{"update_id": true}', SECRET, 400),
    ("update_id out of range", '{"update_id": 9223372036854775808}', SECRET, 400),
    ("a NaN inside", '{"update_id": 5, "x": NaN}', SECRET, 400),
    ("a JSON array", "[1, 2]", SECRET, 400),
]


async def test_forged_requests_are_refused_and_store_nothing(engine: Engine) -> None:
    async with served(settings_for(url_of(engine)), engine) as s:
        for case, body, secret, status in FORGED:
            answered, _ = await s.post(body, secret=secret)
            assert answered == status, case
            assert inbox_rows(engine) == 0, case
        assert s.stored == []
        # the same server still takes a real update afterwards
        assert (await s.post(VALID))[0] == 200
        assert inbox_rows(engine) == 1


async def test_an_oversized_body_without_length_is_refused(engine: Engine) -> None:
    """A chunked body (no Content-Length) is cut off at the limit while it is read."""

    async def chunks():
        yield b'{"update_id": 7, "pad": "'
        for _ in range(MAX_BODY // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    async with served(settings_for(url_of(engine)), engine) as s:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with s.http.post(s.url + "/hook", data=chunks(), headers=headers) as response:
            assert response.status == 413
        assert inbox_rows(engine) == 0


async def test_a_valid_update_is_stored_once_even_when_delivered_twice(engine: Engine) -> None:
    before = UPDATES_RECEIVED.labels(mode="webhook")._value.get()
    update = message_update(2002, chat=777)
    async with served(settings_for(url_of(engine)), engine) as s:
        assert await s.post(json.dumps(update)) == (200, "ok")
        assert await s.post(json.dumps(update)) == (200, "ok")  # Telegram retried: no second row
        assert s.stored == [1], "the workers are woken for a new update only"
    with Session(engine) as session:
        [row] = session.exec(select(InboxUpdate)).all()
    assert (row.update_id, row.chat_key, row.state, row.payload) == (2002, 777, "pending", update)
    assert UPDATES_RECEIVED.labels(mode="webhook")._value.get() == before + 1


async def test_other_paths_and_methods_store_nothing(engine: Engine) -> None:
    async with served(settings_for(url_of(engine)), engine) as s:
        assert (await s.post(VALID, path="/other"))[0] == 404
        assert (await s.get("/hook"))[0] == 405
        assert inbox_rows(engine) == 0


async def _answer_after_stall(engine: Engine, hold: float, lock, unlock) -> None:
    """POST while the inbox is locked by another connection: no answer while it is held; the
    200 comes after the lock is released, and at that moment the row is committed."""
    async with served(settings_for(url_of(engine)), engine) as s:
        lock()
        try:
            started = time.monotonic()
            request = asyncio.create_task(s.post(VALID))
            await asyncio.sleep(hold)
            assert not request.done(), "answered while the database could not take the update"
        finally:
            unlock()
        status, _ = await request
        waited = time.monotonic() - started
        rows = inbox_rows(engine)  # read as soon as the answer came
    assert status == 200
    assert waited >= hold
    assert rows == 1, "200 before the update was committed"


async def test_the_answer_waits_for_the_commit_on_sqlite(tmp_path: Path, template_db: Path) -> None:
    db = tmp_path / "execbot.db"
    shutil.copyfile(template_db, db)
    engine = make_engine(f"sqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        await _answer_after_stall(
            engine,
            1.5,
            lambda: other.execute("BEGIN EXCLUSIVE"),  # another writer holds the file
            lambda: other.execute("COMMIT"),
        )
    finally:
        other.close()
        engine.dispose()


async def test_the_answer_waits_for_the_commit_on_postgresql(
    postgres_url: str,
) -> None:
    from bot.store import migrate

    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    other = engine.connect()
    try:
        transaction = other.begin()
        await _answer_after_stall(
            engine,
            1.5,
            lambda: other.execute(text("LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE")),
            transaction.commit,
        )
    finally:
        other.close()
        engine.dispose()


async def test_stopping_refuses_new_requests_and_finishes_the_one_in_hand(
    tmp_path: Path, template_db: Path
) -> None:
    """SIGTERM's first step: the server stops accepting, and a request whose update is still
    being committed (the database held by another writer) is answered 200 once it is."""
    db = tmp_path / "execbot.db"
    shutil.copyfile(template_db, db)
    engine = make_engine(f"sqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        async with served(settings_for(f"sqlite:///{db}"), engine) as s:
            other.execute("BEGIN EXCLUSIVE")
            in_hand = asyncio.create_task(s.post(VALID))
            await asyncio.sleep(0.5)
            stopping = asyncio.create_task(s.server.stop())
            await asyncio.sleep(0.5)
            async with aiohttp.ClientSession() as fresh:  # a new connection: refused
                with pytest.raises(aiohttp.ClientConnectionError):
                    async with fresh.get(s.url + "/healthz"):
                        pass
            assert not in_hand.done()
            other.execute("COMMIT")
            assert (await in_hand)[0] == 200
            await stopping
        assert inbox_rows(engine) == 1
    finally:
        other.close()
        engine.dispose()


async def test_a_failing_database_answers_500_and_stores_nothing(
    tmp_path: Path, template_db: Path
) -> None:
    """The insert fails inside the database (a trigger refuses it): 500, so Telegram delivers
    the update again; once the database takes it, the same delivery stores it."""
    db = tmp_path / "execbot.db"
    shutil.copyfile(template_db, db)
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON inbox "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        )
    try:
        async with served(settings_for(f"sqlite:///{db}"), engine) as s:
            status, _ = await s.post(VALID)
            assert status == 500
            assert inbox_rows(engine) == 0
            assert s.stored == []
            with engine.begin() as conn:
                conn.execute(text("DROP TRIGGER refuse"))
            assert (await s.post(VALID))[0] == 200
            assert inbox_rows(engine) == 1
    finally:
        engine.dispose()


async def test_an_unreachable_database_answers_500(tmp_path: Path) -> None:
    url = "postgresql+psycopg://execbot@127.0.0.1:9/none"  # nothing listens on port 9
    engine = make_engine(url)
    try:
        async with served(settings_for(url), engine) as s:
            status, body = await s.post(VALID)
        assert status == 500
        assert "deliver it again" in body
        assert s.stored == []
    finally:
        engine.dispose()
