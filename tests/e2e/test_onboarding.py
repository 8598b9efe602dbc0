"""Onboarding end to end: the sandbox and the real ``execbot run`` as separate processes.

An admin imports the org and prints an invite; the person opens it (``/start <code>``); the
binding is in the database and the greeting in the chat. Strangers and second accounts are
refused, and roles decide what ``/help`` shows.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from bot.store import org
from models.tables import AuditEvent, Person
from tests.conftest import EXAMPLE_ORG
from tests.e2e.harness import World, world

ANNA, STRANGER, TOBIAS = 5001, 6002, 5003


def bot_texts(w: World, chat_id: int) -> list[str]:
    return [m["text"] or "" for m in w.messages(chat_id) if m["from"] == "bot"]


def invite_code(w: World, key: str) -> str:
    line = w.execbot("invite", key).stdout.strip()
    link = line.split("\t")[2]
    assert link.startswith("https://t.me/execbot_sandbox_bot?start=")
    return link.split("=", 1)[1]


def test_invite_start_binds_and_greets(tmp_path: Path) -> None:
    with world(tmp_path) as w:
        w.write_config()
        w.execbot("org", "import", str(EXAMPLE_ORG))
        bot = w.start_bot()
        w.wait_ready(bot)
        menu = w.client.calls("setMyCommands")[-1]["params"]["commands"]
        assert {c["command"] for c in menu} >= {"start", "help", "today", "week"}

        w.client.create_person("Anna", id=ANNA, last_name="Weber")
        w.client.create_person("Eve", id=STRANGER)
        w.client.create_person("Tobias", id=TOBIAS)
        code = invite_code(w, "a.weber")

        w.client.send_command(ANNA, "start", code)
        greeting = w.wait(
            "the greeting", lambda: [t for t in bot_texts(w, ANNA) if "Hello, Anna Weber!" in t]
        )
        assert "Every working day I will send you the duties" in greeting[0]
        with Session(w.engine) as session:
            anna = org.person_by_key(session, "a.weber")
            assert anna is not None and anna.telegram_user_id == ANNA
            assert anna.joined_at is not None
            events_before = session.exec(select(func.count()).select_from(AuditEvent)).one()

        # The same link by a second account is refused; nothing changes.
        w.client.send_command(STRANGER, "start", code)
        w.wait(
            "the refusal", lambda: [t for t in bot_texts(w, STRANGER) if "already been used" in t]
        )
        # A stranger asking for help gets a polite refusal and leaves nothing stored.
        w.client.send_command(STRANGER, "help")
        w.wait(
            "the stranger refusal",
            lambda: [t for t in bot_texts(w, STRANGER) if "I don't know you yet" in t],
        )
        w.client.send_command(STRANGER, "start")
        w.wait(
            "how to get a code",
            lambda: [t for t in bot_texts(w, STRANGER) if "personal invite link" in t],
        )
        with Session(w.engine) as session:
            assert org.person_by_telegram(session, STRANGER) is None
            assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events_before
            assert (
                session.exec(
                    select(func.count())
                    .select_from(Person)
                    .where(Person.telegram_user_id == STRANGER)
                ).one()
                == 0
            )

        # Roles: a worker's help has no leader part; a team leader's has.
        w.client.send_command(ANNA, "help")
        worker_help = w.wait(
            "worker help", lambda: [t for t in bot_texts(w, ANNA) if "/today" in t]
        )
        assert "As a leader" not in worker_help[0]
        w.client.send_command(TOBIAS, "start", invite_code(w, "t.wagner"))
        w.wait(
            "tobias greeting",
            lambda: [t for t in bot_texts(w, TOBIAS) if "Hello, Tobias Wagner!" in t],
        )
        w.client.send_command(TOBIAS, "help")
        w.wait("leader help", lambda: [t for t in bot_texts(w, TOBIAS) if "As a leader" in t])
        w.client.send_text(ANNA, "hello bot")
        w.wait(
            "not understood", lambda: [t for t in bot_texts(w, ANNA) if "didn't understand" in t]
        )
        w.client.send_command(ANNA, "frobnicate")
        w.wait(
            "unknown command",
            lambda: [t for t in bot_texts(w, ANNA) if "don't know that command" in t],
        )

        assert w.client.counters()["unanswered_callback_queries"] == 0
        log = bot.log.read_text()
        assert "TEST-sandbox-token" not in log and w.client.health()  # the token never logged
        assert bot.stop() == 0
