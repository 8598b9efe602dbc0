"""One update, several duties (issue 10, item 6), on SQLite and PostgreSQL: ``done 1 3``
stores a row for each, and the same update handled again stores nothing and says so for each;
the database refuses the same update twice for one occurrence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.services import actions, replies
from models.tables import Reply
from tests.services.test_escalation_service import (
    CHATS,
    build,
    duty,
    local,
    occurrence,
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


def test_a_block_note_typed_after_the_block_was_resolved_keeps_it_resolved(
    engine: Engine, tmp_path: Path
) -> None:
    """The worker blocks (category button), the leader taps Resolved before the worker types
    the note: the note is stored, and the item stays resolved (it used to turn blocked again,
    without any climb left to follow it up)."""
    build(engine, tmp_path, duty("reading", "w1"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    occ_id = occurrence(engine, "reading").id
    tap = replies.Incoming(CHATS["w1"], 80, 6, local("07:05"))
    assert replies.tap(engine, s, tap, f"c:m:{occ_id}").recorded
    resolved = actions.tap(engine, s, CHATS["tl"], f"e:s:{occ_id}", local("07:06"))
    assert resolved.recorded
    note = replies.Incoming(CHATS["w1"], 81, 7, local("07:07"))
    answer = replies.typed(engine, s, note, "the spare valve is in store B")
    assert answer is not None and answer.recorded
    assert occurrence(engine, "reading").status == "resolved"
    with Session(engine) as session:
        last = session.exec(select(Reply).order_by(col(Reply.id).desc())).first()
        assert last is not None and last.text == "the spare valve is in store B"
