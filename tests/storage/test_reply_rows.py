"""One update, several duties (issue 10, item 6), on SQLite and PostgreSQL: ``done 1 3``
stores a row for each, and the same update handled again stores nothing and says so for each;
the database refuses the same update twice for one occurrence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import replies
from models.tables import Reply
from tests.storage.test_escalation_service import (
    CHATS,
    build,
    duty,
    local,
    settings,
    start_day,
)


def test_item6_one_update_records_several_duties_once(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w1"), duty("valves", "w1"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    line = replies.Incoming(CHATS["w1"], 77, 5, local("07:10"))
    first = replies.typed(engine, s, line, "done 1 3")
    assert first is not None and first.recorded
    assert first.answer == (
        "Recorded: 1. Read the meters is done.\nRecorded: 3. Check the valves is done."
    )
    again = replies.typed(engine, s, line, "done 1 3")
    assert again is not None and not again.recorded
    assert again.answer == (
        "Already recorded: 1. Read the meters is ✅ done.\n"
        "Already recorded: 3. Check the valves is ✅ done."
    )
    with Session(engine) as session:
        rows = session.exec(select(Reply).order_by(col(Reply.id))).all()
        assert [(r.telegram_update_id, r.kind) for r in rows] == [(77, "done"), (77, "done")]
        session.add(
            Reply(
                occurrence_id=rows[0].occurrence_id,
                person_id=rows[0].person_id,
                kind="done",
                via="command",
                telegram_update_id=77,
                created_at=local("07:11"),
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()
