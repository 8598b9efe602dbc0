"""The chunking helper for large ``IN (...)`` lists, on SQLite and PostgreSQL.

PostgreSQL's protocol takes at most 65,535 parameters in one statement (SQLite's limit is
32,766 or lower, unless built with more): 70,000 values are more than either takes at once,
so a store function that bound them in one statement would fail here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.store import org, outbox
from bot.store.chunks import CHUNK, chunked, select_in
from bot.store.engine import session_scope
from models.tables import Outbox, Person, Setting, Unit
from tests.conftest import NOW

MANY = 70_000  # more values than one statement takes on either backend


def test_chunked_slices_in_order_and_bounds_each_slice() -> None:
    values = list(range(1, 1_203))
    slices = list(chunked(values))
    assert [len(s) for s in slices] == [CHUNK, CHUNK, 1_202 - 2 * CHUNK]
    assert [v for s in slices for v in s] == values
    assert list(chunked(values, 1_202)) == [values]
    assert list(chunked([], 7)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked(values, 0))


def _settings(engine: Engine, keys: list[str]) -> None:
    with session_scope(engine) as session:
        session.add_all(Setting(key=key, value=key.upper(), updated_at=NOW) for key in keys)


def test_select_in_reads_every_chunk_entities_and_tuples(engine: Engine) -> None:
    stored = ["k00001", "k35000", "k69999"]  # in the first, a middle and the last chunk
    _settings(engine, stored)
    wanted = [f"k{i:05d}" for i in range(MANY)]
    with session_scope(engine) as session:
        rows = select_in(
            session, wanted, lambda chunk: select(Setting).where(col(Setting.key).in_(chunk))
        )
        assert sorted(row.key for row in rows) == stored
        pairs = select_in(
            session,
            wanted,
            lambda chunk: sa_select(col(Setting.key), col(Setting.value)).where(
                col(Setting.key).in_(chunk)
            ),
        )
        assert sorted(pairs) == [(key, key.upper()) for key in stored]
        assert select_in(session, [], lambda chunk: select(Setting)) == []


def test_one_statement_with_all_values_is_refused_on_postgresql(engine: Engine) -> None:
    """Why the helper exists (PostgreSQL's limit is fixed; SQLite's depends on its build)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's variable limit depends on how it was built")
    wanted = [f"k{i:05d}" for i in range(MANY)]
    with pytest.raises(Exception, match="65535"), session_scope(engine) as session:
        session.exec(select(Setting).where(col(Setting.key).in_(wanted))).all()


def test_store_functions_take_lists_longer_than_one_statement(engine: Engine) -> None:
    with session_scope(engine) as session:
        unit = Unit(key="plant", name="Plant", kind="plant", created_at=NOW, updated_at=NOW)
        session.add(unit)
        session.flush()
        people = [
            Person(key=f"p{i}", name=f"P {i}", unit_id=unit.id or 0, post="operator",
                   unreachable_reason="blocked the bot", unreachable_since=NOW,
                   created_at=NOW, updated_at=NOW)
            for i in range(3)
        ]  # fmt: skip
        session.add_all(people)
        messages = [
            Outbox(created_at=NOW, chat_id=1, kind="notice", dedupe_key=f"d{i}", payload={},
                   next_attempt_at=NOW, state="sending", claimed_at=NOW)
            for i in range(2)
        ]  # fmt: skip
        session.add_all(messages)
        session.flush()
        ids = sorted(p.id or 0 for p in people)
        outbox_ids = sorted(m.id or 0 for m in messages)
    far = list(range(10**6, 10**6 + MANY))  # ids nobody has, around the real ones
    later = NOW + timedelta(minutes=5)
    with session_scope(engine) as session:
        assert sorted(org.people_by_ids(session, [*far, *ids])) == ids
        assert sorted(p.key for p in org.people_by_keys(session, ["p0", *map(str, far)])) == ["p0"]
        assert org.person_keys(session, [*ids, *far]) == {i: f"p{n}" for n, i in enumerate(ids)}
        found = outbox.stored_dedupe_keys(session, ["d1", *(f"x{i}" for i in far)])
        assert found == {"d1"}
        org.mark_reachable(session, [*far, ids[0]])
        outbox.renew_claims(session, [*far, outbox_ids[1]], later)
    with session_scope(engine) as session:
        reasons = session.exec(select(Person.key, Person.unreachable_reason)).all()
        assert sorted(reasons) == [
            ("p0", None),
            ("p1", "blocked the bot"),
            ("p2", "blocked the bot"),
        ]
        claims = session.exec(select(Outbox.dedupe_key, Outbox.claimed_at)).all()
        assert {key: at is not None and at.replace(tzinfo=None) == later.replace(tzinfo=None)
                for key, at in claims} == {"d0": False, "d1": True}  # fmt: skip
