"""Telegram down for longer than the old attempt limit, and messages Telegram refuses for good,
in-process with the Bot API's latency.

An escalation that falls due during an outage reaches the leader once Telegram is back, however
long the outage (5xx and dropped connections are retried at the capped backoff, on the bot's
clock: here the test moves the fake clock to each retry time and wakes the sender, where
``execbot run`` would wait for it). A message refused for good (here: "chat not found") is
given up, the admins hear of it once, and ``/dead`` and ``execbot outbox --dead`` list it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from models.tables import AuditEvent, Outbox, Person
from tests.adapters.harness import Harness, harness
from tests.cli.runner import execbot
from tests.outage_org import BOSS, CONFIG, GHOST, LATENCY, ORG, TL, W1

GHOST_ORG = """
[[people]]
key = "ghost"
name = "Gus Ghost"
unit = "team"
post = "operator"

[[duties]]
key = "valves"
title = "Check the valves"
assignee = "ghost"
nudge = "07:00"
due = "+30m"
"""

START = datetime.fromisoformat("2026-11-17T07:00:00+01:00")  # a Tuesday, the nudge time
PASSES = ("plan", "nudges", "escalation", "reports", "dead")


@asynccontextmanager
async def set_up(
    root: Path, template: Path, chats: dict[str, int], org: str
) -> AsyncIterator[Harness]:
    """The org imported; the people in ``chats`` bound to those Telegram ids, and those the
    sandbox should know (every one but the ghost, whose account is gone) in a chat with it;
    the bot started at 07:00 with every pass run once, as at start-up."""
    async with harness(root, template, START, config_extra=CONFIG, latency=LATENCY) as h:
        h.import_org(org)
        await h.bind({key: chat for key, chat in chats.items() if chat != GHOST})
        if GHOST in chats.values():  # bound, but the sandbox does not know the account
            with h.session() as session:
                session.execute(
                    update(Person).where(col(Person.key) == "ghost").values(telegram_user_id=GHOST)
                )
                session.commit()
        await h.start_bot()
        await h.run_pass(*PASSES)
        yield h
        assert not h.errors.records, h.errors.records


async def bot_texts(h: Harness, chat: int, pattern: str) -> list[str]:
    return [t for t in await h.texts(chat) if re.search(pattern, t)]


def escalation_row(h: Harness) -> Outbox:
    with h.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.chat_id == TL)).all()
        found = [r for r in rows if "Willy One" in r.payload.get("text", "")]
        return found[0] if found else Outbox(kind="none", chat_id=TL, state="none")


def failed_tries(h: Harness) -> int:
    """How often the escalation to the team leader has failed; past any limit if it died."""
    row = escalation_row(h)
    return 1000 if row.state == "dead" else row.attempts


async def retry_until(h: Harness, tries: int) -> None:
    """Move the clock to each retry time of the escalation (and wake the sender, which would
    look within a second anyway) until it has failed ``tries`` times."""
    while (done := failed_tries(h)) < tries:
        row = escalation_row(h)
        if row.next_attempt_at is not None and row.next_attempt_at > h.clock():
            h.clock.set(row.next_attempt_at + timedelta(seconds=1))
        await h.run_pass("escalation", "dead")  # the ticks in between
        h.bot.app.bot_data.sender.wake()
        await h.wait(f"try {done + 1} of the escalation", lambda: failed_tries(h) > done)


async def test_item2_escalation_reaches_the_leader_after_a_long_outage(
    tmp_path: Path, template_db: Path
) -> None:
    """Telegram answers 502, then drops connections, for longer than the old 12 attempts
    lasted (23.5 minutes); it comes back once the escalation has failed 13 times over more
    than 30 minutes of the bot's clock."""
    async with set_up(tmp_path, template_db, {"w1": W1, "tl": TL, "boss": BOSS}, ORG) as h:
        await h.message(W1, "your duties for")
        # Telegram goes down before the escalation falls due (07:31): every method fails.
        await h.people.add_fault("error", status=502, duration=120)
        h.clock.advance(minutes=31)
        await h.run_pass("escalation")
        await retry_until(h, 7)
        await h.people.clear_faults()
        await h.people.add_fault("drop", duration=120)
        await retry_until(h, 13)
        await h.people.clear_faults()  # Telegram is back

        row = escalation_row(h)
        assert row.next_attempt_at is not None
        h.clock.set(max(h.clock(), row.next_attempt_at + timedelta(seconds=1)))
        h.bot.app.bot_data.sender.wake()
        pattern = r"Willy One — 1\. Read the meters: no answer"
        await h.until("the escalation after recovery", lambda: bot_texts(h, TL, pattern))
        await h.wait("the row recorded as sent", lambda: escalation_row(h).state == "sent")
        row = escalation_row(h)
        assert row.sent_at is not None and row.attempts >= 13
        assert row.sent_at - row.created_at >= timedelta(minutes=30)  # on the bot's clock
        await h.run_pass(*PASSES)
        await h.settle()
        assert len(await bot_texts(h, TL, pattern)) == 1
        assert not h.bot.task.done()


async def test_item2_a_message_given_up_is_reported_to_admins_once_and_listed(
    tmp_path: Path, template_db: Path
) -> None:
    chats = {"w1": W1, "tl": TL, "boss": BOSS, "ghost": GHOST}
    async with set_up(tmp_path, template_db, chats, ORG + GHOST_ORG) as h:

        def given_up() -> bool:
            with h.session() as session:
                return bool(session.exec(select(Outbox).where(Outbox.state == "dead")).all())

        await h.wait("the nudge to Gus given up", given_up)
        await h.run_pass("dead")
        report = (await h.message(BOSS, "could not be delivered"))["text"]
        assert report.startswith("⚠️ 1 message could not be delivered and was given up:")
        assert re.search(
            r"#\d+ nudge to Gus Ghost \(ghost\), Nov 17, 07:00: .*chat not found", report, re.I
        )

        # /dead lists it for the admin, in a private chat; others are refused.
        await h.people.send_command(BOSS, "dead")
        listing = (await h.message(BOSS, "Messages given up"))["text"]
        assert listing.startswith("Messages given up: 1, newest first.")
        assert "nudge to Gus Ghost (ghost)" in listing and "chat not found" in listing.lower()
        await h.people.send_command(TL, "dead")
        await h.message(TL, "only for admins")

        config = tmp_path / "config.toml"
        config.write_text(f'[database]\nurl = "{h.settings.database.url}"\n')
        env = {"EXECBOT_CONFIG": str(config)}
        cli = execbot(tmp_path, "outbox", "--dead", env=env).stdout.splitlines()
        assert cli[0] == "1 message given up (id, kind, to, created, attempts, error):"
        assert re.fullmatch(
            r"\d+\tnudge\tghost \(Gus Ghost\)\t2026-11-17 06:00 UTC\t1\t.*chat not found.*",
            cli[1],
            re.I,
        )
        summary = execbot(tmp_path, "outbox", env=env).stdout
        assert "dead: 1" in summary and "sent:" in summary

        # Meanwhile the dead pass runs every tick: the admins are still told only once.
        for _ in range(3):
            h.clock.advance(seconds=1)
            await h.run_pass("dead")
        await h.settle()
        assert len(await bot_texts(h, BOSS, "could not be delivered")) == 1
        with h.session() as session:
            kinds = [e.kind for e in session.exec(select(AuditEvent)).all()]
        assert kinds.count("delivery.dead_reported") == 1
        assert not h.bot.task.done()
