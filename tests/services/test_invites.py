"""Invites on both backends: happy path, reuse, expiry, a second account, and the CLI rules
(unknown, deactivated, already linked people)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services.onboarding import InviteError, issue_invites, redeem
from bot.services.org_import import import_org
from bot.store import audit
from bot.store.org import person_by_key, person_by_telegram
from models.invites import Outcome
from models.tables import Invite
from tests.conftest import EXAMPLE_ORG, NOW

TTL = timedelta(days=7)


@pytest.fixture
def org(engine: Engine) -> Engine:
    assert import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False).written
    return engine


def invite_code(engine: Engine, key: str) -> str:
    [issued] = issue_invites(
        engine, [key], all_pending=False, bot_username="plant_bot", ttl=TTL, now=NOW
    )
    prefix = "https://t.me/plant_bot?start="
    assert issued.link.startswith(prefix)
    assert issued.expires_at == NOW + TTL
    return issued.link.removeprefix(prefix)


def test_happy_path_binds_the_account(org: Engine) -> None:
    code = invite_code(org, "a.weber")
    assert len(code) <= 64 and code.replace("-", "").replace("_", "").isalnum()
    result = redeem(org, code, 5001, NOW + timedelta(hours=1))
    assert result.outcome is Outcome.LINK and result.person_name == "Anna Weber"
    with Session(org) as session:
        anna = person_by_key(session, "a.weber")
        assert anna is not None
        assert anna.telegram_user_id == 5001 and anna.joined_at == NOW + timedelta(hours=1)
        invite = session.exec(select(Invite)).one()
        assert invite.code != code  # only the hash is stored
        assert invite.used_by_telegram_id == 5001
        assert [e.kind for e in audit.events(session)][-1] == "person.joined"


def test_reuse_by_the_same_account_is_a_welcome_back(org: Engine) -> None:
    code = invite_code(org, "a.weber")
    redeem(org, code, 5001, NOW)
    again = redeem(org, code, 5001, NOW)
    assert again.outcome is Outcome.ALREADY_LINKED


def test_second_account_is_refused(org: Engine) -> None:
    code = invite_code(org, "a.weber")
    redeem(org, code, 5001, NOW)
    assert redeem(org, code, 6002, NOW).outcome is Outcome.USED
    with Session(org) as session:
        anna = person_by_key(session, "a.weber")
        assert anna is not None and anna.telegram_user_id == 5001
        assert person_by_telegram(session, 6002) is None


def test_expired_code_is_refused(org: Engine) -> None:
    code = invite_code(org, "a.weber")
    result = redeem(org, code, 5001, NOW + TTL)
    assert result.outcome is Outcome.EXPIRED
    with Session(org) as session:
        anna = person_by_key(session, "a.weber")
        assert anna is not None and anna.telegram_user_id is None


def test_unknown_code_and_account_already_taken(org: Engine) -> None:
    assert redeem(org, "not-a-code", 5001, NOW).outcome is Outcome.UNKNOWN
    redeem(org, invite_code(org, "a.weber"), 5001, NOW)
    taken = redeem(org, invite_code(org, "p.schulz"), 5001, NOW)
    assert taken.outcome is Outcome.ACCOUNT_TAKEN and taken.person_name == "Anna Weber"


def test_issue_refuses_unknown_inactive_and_linked(org: Engine) -> None:
    redeem(org, invite_code(org, "a.weber"), 5001, NOW)
    with pytest.raises(InviteError) as caught:
        issue_invites(
            org, ["ghost", "a.weber"], all_pending=False, bot_username="b", ttl=TTL, now=NOW
        )
    assert "ghost: no such person" in str(caught.value)
    assert "a.weber: already linked" in str(caught.value)


def test_all_pending_skips_the_linked(org: Engine) -> None:
    redeem(org, invite_code(org, "a.weber"), 5001, NOW)
    issued = issue_invites(org, [], all_pending=True, bot_username="b", ttl=TTL, now=NOW)
    assert len(issued) == 10
    assert "a.weber" not in {item.person_key for item in issued}
