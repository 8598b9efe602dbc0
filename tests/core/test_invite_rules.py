"""The pure rules of ``/start <code>``, with exact instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.invites import InviteFacts, Outcome, PersonFacts, decide, deep_link

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
FRESH = InviteFacts(person_id=1, expires_at=NOW + timedelta(days=1), used_at=None)
ANNA = PersonFacts(id=1, active=True, telegram_user_id=None)


@pytest.mark.parametrize(
    ("invite", "person", "account_person", "expected"),
    [
        (FRESH, ANNA, None, Outcome.LINK),
        (None, None, None, Outcome.UNKNOWN),
        (FRESH.__class__(1, NOW, None), ANNA, None, Outcome.EXPIRED),  # expiry is exclusive
        (FRESH.__class__(1, NOW + timedelta(seconds=1), None), ANNA, None, Outcome.LINK),
        (FRESH.__class__(1, FRESH.expires_at, NOW), ANNA, None, Outcome.USED),
        (FRESH, PersonFacts(1, False, None), None, Outcome.INACTIVE),
        (FRESH, ANNA, 2, Outcome.ACCOUNT_TAKEN),
        (FRESH, PersonFacts(1, True, 999), None, Outcome.OTHER_ACCOUNT),
        (FRESH.__class__(1, NOW, NOW), PersonFacts(1, True, 42), 1, Outcome.ALREADY_LINKED),
    ],
)
def test_decide(invite, person, account_person, expected) -> None:
    assert decide(invite, person, account_person, 42, NOW) is expected


def test_deep_link() -> None:
    assert deep_link("plant_bot", "abc-_1") == "https://t.me/plant_bot?start=abc-_1"
