"""The admins' report and the /dead list fit in one Telegram message, however many messages
died and however long their names and errors."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import Settings
from bot.services.reports import dead_text
from bot.store.outbox import DeadMessage
from models.text_limits import TEXT_LIMIT

AT = datetime(2026, 11, 17, 6, 31, tzinfo=UTC)


def rows(count: int, long: bool) -> list[DeadMessage]:
    name, error = ("N" * 200, "Bad Request: " + "x" * 480) if long else ("Tina Lead", "Forbidden")
    return [
        DeadMessage(count - i, "escalation", 800 + i, f"p{i}", name, AT, 1, error)
        for i in range(count)
    ]


def test_item2_dead_report_stays_within_one_message() -> None:
    for count in (1, 30, 5000):
        for long in (False, True):
            text = dead_text("en", Settings(), rows(count, long), "delivery.dead_report", count)
            assert len(text) <= TEXT_LIMIT
            if count == 5000 or (long and count == 30):
                assert "more (execbot outbox --dead lists them all)" in text


def test_item2_dead_line_shows_who_when_and_why_in_plant_time() -> None:
    text = dead_text("en", Settings(), rows(1, False), "delivery.dead_list", 1)
    assert text == (
        "Messages given up: 1, newest first.\n"
        "#1 escalation to Tina Lead (p0), Nov 17, 07:31: Forbidden"
    )
