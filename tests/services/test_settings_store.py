"""Settings rows (bot/store/settings.py) on SQLite and PostgreSQL: storing a key is one atomic
upsert, so two instances starting at the same moment (each remembering the bot's username)
never collide on the key; a value read earlier in the same session shows the new one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from bot.store.engine import session_scope
from bot.store.settings import get_setting, put_setting
from models.tables import Setting

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_many_writers_of_one_new_key_all_succeed(engine: Engine) -> None:
    barrier, errors = threading.Barrier(8), []

    def write(n: int) -> None:
        try:
            with session_scope(engine) as session:
                barrier.wait(5)
                put_setting(session, "bot_username", f"bot{n}", NOW)
        except Exception as exc:  # the failure this test is about
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with session_scope(engine) as session:
        assert get_setting(session, "bot_username") in {f"bot{n}" for n in range(8)}


def test_a_value_read_before_shows_the_new_one(engine: Engine) -> None:
    with session_scope(engine) as session:
        put_setting(session, "k", "one", NOW)
    with session_scope(engine) as session:
        row = session.get(Setting, "k")
        assert row is not None and row.value == "one"
        put_setting(session, "k", "two", NOW)
        assert row.value == "two"
        assert get_setting(session, "k") == "two"
