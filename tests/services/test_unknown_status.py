"""An occurrence whose status no release writes (edited by hand, or from a newer release) is
neither taken for finished nor climbed: the escalation pass leaves it as it is, tells the
admins once, and goes on with everybody else."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.services import escalation
from models.tables import Occurrence
from tests.services.test_bad_items_service import told_admin
from tests.services.test_escalation_service import (
    build,
    climb,
    duty,
    local,
    notices,
    occurrence,
    settings,
    start_day,
)


def test_an_unknown_status_is_reported_not_taken_for_done(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w2"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    pump = occurrence(engine, "pump").id
    with Session(engine) as session:
        session.execute(
            update(Occurrence).where(col(Occurrence.id) == pump).values(status="paused")
        )
        session.commit()
    before = climb(engine, "pump")

    escalation.advance(engine, s, local("08:10"))  # level 1 of both items is due

    assert ("l0", "escalate", "tl") in notices(engine)  # Willy's silence reached Tina
    after = climb(engine, "pump")
    assert after == before and after[5] is not None  # left due, not ended as if done
    [told] = told_admin(engine)
    assert f"could not handle occurrence {pump} in the escalation pass" in told
    assert "got 'paused'" in told
    escalation.advance(engine, s, local("08:40"))
    assert len(told_admin(engine)) == 1
