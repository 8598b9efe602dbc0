"""``/start``: an invite binds the account and greets; a used, unknown or malformed code and a
second account are refused; ``/start`` alone tells a stranger how to join and a member that
they are linked. The handler: handlers/start.py."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from bot.store import org
from bot.store.settings import BOT_USERNAME_SETTING, get_setting
from models.tables import AuditEvent, Person
from tests.adapters.harness import Harness
from tests.adapters.org import ORG

ANNA, EVE = 5001, 6002


async def test_invite_binds_and_greets_and_a_second_account_is_refused(bare: Harness) -> None:
    bare.import_org(ORG)
    await bare.start_bot()
    await bare.people.create_person("Walt", id=ANNA)
    await bare.people.create_person("Eve", id=EVE)
    code = bare.invite_code("walt")

    await bare.people.send_command(ANNA, "start", code)
    greeting = await bare.message(ANNA, "Hello, Walt Worker!")
    assert "Every working day I will send you the duties" in greeting["text"]
    with bare.session() as session:
        walt = org.person_by_key(session, "walt")
        assert walt is not None and walt.telegram_user_id == ANNA and walt.joined_at is not None
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()

    await bare.people.send_command(EVE, "start", code)
    await bare.message(EVE, "already been used")
    await bare.people.send_command(EVE, "start")
    await bare.message(EVE, "personal invite link")
    await bare.people.send_command(ANNA, "start")
    await bare.message(ANNA, "Walt Worker", after=greeting["message_id"])
    await bare.people.send_command(EVE, "start", "no/such*code")  # not even a code's shape
    await bare.people.send_command(EVE, "start", "unknowncode")
    await bare.settle()
    eve = await bare.texts(EVE)
    assert len(eve) == 4 and eve[2] == eve[3], eve  # both: the same "unknown code" answer
    with bare.session() as session:
        assert org.person_by_telegram(session, EVE) is None
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
        bound = select(func.count()).select_from(Person).where(Person.telegram_user_id == EVE)
        assert session.exec(bound).one() == 0


async def test_the_menu_of_commands_is_set_at_start(bare: Harness) -> None:
    await bare.start_bot()
    calls = await bare.people.calls("setMyCommands")
    assert "scope" not in calls[0]["params"]  # the default list, before polling: a worker's
    assert {c["command"] for c in calls[0]["params"]["commands"]} >= {
        "today", "week", "help", "start",
    }  # fmt: skip
    assert not {c["command"] for c in calls[0]["params"]["commands"]} & {"team", "overdue"}
    with bare.session() as session:
        assert get_setting(session, BOT_USERNAME_SETTING) == "execbot_sandbox_bot"
