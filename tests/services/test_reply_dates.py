"""Times on another day carry their date (issue 10, item 15), in the escalation notices a
leader gets: an item from yesterday, escalated today after the bot was down, says when it was
due; a reminder for a duty due after midnight says which day. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.services import escalation
from tests.services.test_escalation_service import (
    DAY,
    build,
    duty,
    item,
    local,
    settings,
    start_day,
    texts_to,
)


def test_item15_a_notice_about_yesterdays_item_names_its_day(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("reading", "w1"))
    s = settings(levels=("10m", "30m", "60m"))
    start_day(engine, s, local("06:00"), local("07:00"))
    escalation.advance(engine, s, local("08:10"))  # today: the time alone
    escalation.advance(engine, s, local("06:00", DAY + timedelta(days=1)))  # down overnight
    assert texts_to(engine, "tl") == [
        "1 item needs your attention:\n" + item("Willy One", "reading", "no answer (due 08:00)")
    ]
    assert texts_to(engine, "wh") == [
        "1 item needs your attention:\n"
        + item("Willy One", "reading", "no answer (due Tue, Nov 17 08:00)")
    ]


def test_item15_a_reminder_for_a_duty_due_after_midnight_names_its_day(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("night", "w1", nudge="23:00", due="+1h30m"))
    s = settings(reminders=("-1h",))
    start_day(engine, s, local("06:00"), local("23:00"))
    escalation.advance(engine, s, local("23:30"))
    assert texts_to(engine, "w1", kind=None)[-1] == (
        "Reminder: 1. Night check is due at Wed, Nov 18 00:30."
    )
