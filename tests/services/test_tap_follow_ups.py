"""A tap's follow-ups (the nudge edits, the question it asks) are stored in the outbox in the
tap's own transaction (``replies.tap_and_queue``): with the reply, or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services import replies
from models.tables import Outbox, Reply
from tests.services.test_escalation_service import (
    CHATS,
    build,
    duty,
    local,
    occurrence,
    settings,
    start_day,
)


def _count(engine: Engine, table: Any) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_a_tap_stores_its_question_with_its_reply(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    occ_id = occurrence(engine, "reading").id
    queued = _count(engine, Outbox)
    tap = replies.Incoming(CHATS["w1"], 90, 6, local("07:05"))
    outcome = replies.tap_and_queue(engine, s, tap, f"c:m:{occ_id}", CHATS["w1"])
    assert outcome.recorded and outcome.prompt is not None
    expected = replies.follow_ups(CHATS["w1"], outcome)
    assert expected[-1].chat_id == CHATS["w1"]
    with Session(engine) as session:
        stored = session.exec(select(Outbox).order_by(Outbox.id)).all()[queued:]  # type: ignore[arg-type]
    assert [(m.chat_id, m.payload) for m in stored] == [(m.chat_id, m.payload) for m in expected]
    assert _count(engine, Reply) == 1


def test_a_tap_whose_follow_ups_cannot_be_stored_stores_no_reply(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("reading", "w1"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    occ_id = occurrence(engine, "reading").id

    def refuse_outbox(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            raise RuntimeError("the outbox refuses")

    event.listen(engine, "before_cursor_execute", refuse_outbox)
    try:
        tap = replies.Incoming(CHATS["w1"], 91, 6, local("07:05"))
        with pytest.raises(RuntimeError):
            replies.tap_and_queue(engine, s, tap, f"c:m:{occ_id}", CHATS["w1"])
    finally:
        event.remove(engine, "before_cursor_execute", refuse_outbox)
    assert _count(engine, Reply) == 0  # rolled back with its follow-ups
