"""Telegram down for longer than the old attempt limit, end to end: an escalation that falls due
during an outage reaches the leader once Telegram is back, however long the outage (5xx,
timeouts and dropped connections are retried at the capped backoff, on the bot's clock, here
a clock running 600 times as fast, with the sender finding each retry on its own).
tests/adapters/test_delivery_outage.py has the same outage on a fake clock the test moves, and
the message refused for good ("chat not found", `/dead`, `execbot outbox --dead`)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import Outbox, Person
from tests.e2e.harness import World, world
from tests.outage_org import BOSS, CONFIG, GHOST, LATENCY, ORG, TL, W1


def set_up(w: World, chats: dict[str, int], org: str) -> None:
    """The org imported; the people in ``chats`` bound to those Telegram ids, and those the
    sandbox should know (every one but the ghost, whose account is gone) in a chat with it."""
    w.write_config(CONFIG)
    (w.root / "org.toml").write_text(org)
    w.execbot("org", "import", str(w.root / "org.toml"))
    with Session(w.engine) as session:
        for key, chat in chats.items():
            if chat != GHOST:
                w.client.create_person(key, id=chat, started=True)
            session.execute(
                update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
            )
        session.commit()


def bot_texts(w: World, chat: int, pattern: str) -> list[str]:
    return [
        m["text"] or ""
        for m in w.messages(chat)
        if m["from"] == "bot" and re.search(pattern, m["text"] or "")
    ]


def test_item2_escalation_reaches_the_leader_after_a_long_outage(tmp_path: Path) -> None:
    """Telegram answers 502, then drops connections, for longer than the old 12 attempts
    lasted (23.5 minutes), for every call to the team leader's chat. The virtual clock runs
    600 times as fast (the backoff cap of 5 minutes is half a real second), so the outage is a
    few real seconds; it ends, as a timed outage would, once the escalation has failed 13
    times over more than 30 virtual minutes. The outage is in place before the bot starts, so
    however slowly a busy machine runs the bot, the escalation (due 07:31) meets it."""
    with world(tmp_path, latency=LATENCY) as w:
        set_up(w, {"w1": W1, "tl": TL, "boss": BOSS}, ORG)
        w.client.add_fault("error", status=502, duration=3600, chat_id=TL)
        start = "2026-11-17T06:45:00+01:00"
        bot = w.start_bot(EXECBOT_CLOCK_START=start, EXECBOT_CLOCK_SPEED="600")
        w.wait_ready(bot)
        w.wait("Willy's nudge", lambda: bot_texts(w, W1, "your duties for"), timeout=120)
        # seven tries take seconds at 600x; a busy CI machine has needed more than a minute
        w.wait("7 failed tries", lambda: failed_tries(w) >= 7, timeout=150)
        w.client.clear_faults()
        w.client.add_fault("drop", duration=3600, chat_id=TL)
        w.wait("13 failed tries", lambda: failed_tries(w) >= 13, timeout=150)
        w.client.clear_faults()  # Telegram is back

        pattern = r"Willy One — 1\. Read the meters: no answer"
        w.wait("the escalation after recovery", lambda: bot_texts(w, TL, pattern), timeout=30)
        w.wait("the row recorded as sent", lambda: escalation_row(w).state == "sent", timeout=10)
        row = escalation_row(w)
        assert row.sent_at is not None and row.attempts >= 13
        assert row.sent_at - row.created_at >= timedelta(minutes=30)  # retried on the bot's clock
        assert len(bot_texts(w, TL, pattern)) == 1
        assert bot.popen.poll() is None


def failed_tries(w: World) -> int:
    """How often the escalation to the team leader has failed; past any limit if it died."""
    row = escalation_row(w)
    return 1000 if row.state == "dead" else row.attempts


def escalation_row(w: World) -> Outbox:
    with Session(w.engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.chat_id == TL)).all()
        found = [r for r in rows if "Willy One" in r.payload.get("text", "")]
        return found[0] if found else Outbox(kind="none", chat_id=TL, state="none")
