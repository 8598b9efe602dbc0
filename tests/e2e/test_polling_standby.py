"""Polling with standby: two ``execbot run`` processes in polling mode on one PostgreSQL
database. Only the one holding the lease ``poller`` polls (it logs "polling as <instance>",
the other "waiting for the lease poller"), and only one sends (the lease ``sender``, "sending
as <instance>"); when the poller is SIGKILLed the other polls and sends within 10 s, and a tap
sent after the kill is handled and stored once: no update is lost. SIGTERM instead: the poller
exits within 10 s, releasing its leases, and the other takes over within a few seconds."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from bot import config
from bot.services import planning
from models.tables import Lease, Person, Reply
from tests.e2e.harness import Proc, World, world
from tests.e2e.instances import TELEGRAM_LATENCY
from tests.e2e.test_nudges import nudge_counts, prepare_wave

PEOPLE, FIRST = 3, 41_000
CHATS = range(FIRST, FIRST + PEOPLE)
START = datetime.fromisoformat("2026-11-17T06:59:58+01:00")  # nudges at 07:00
DONE = "1 ✅ Done"
POLLING = re.compile(r"polling as (\S+)")
SENDING = re.compile(r"sending as (\S+)")


def log_text(bot: Proc) -> str:
    return bot.log.read_text(errors="replace") if bot.log.exists() else ""


def polling_as(bot: Proc) -> list[str]:
    return POLLING.findall(log_text(bot))


def sending_as(bot: Proc) -> list[str]:
    return SENDING.findall(log_text(bot))


def stored(w: World) -> list[tuple[int, str]]:
    with Session(w.engine) as session:
        rows = session.execute(
            select(col(Person.telegram_user_id), col(Reply.kind)).join(
                Person, col(Person.id) == col(Reply.person_id)
            )
        ).all()
    return sorted((int(chat), str(kind)) for chat, kind in rows)


def test_the_standby_polls_within_10_s_of_the_pollers_kill(
    tmp_path: Path, postgres_url: str
) -> None:
    began = time.monotonic()
    with world(tmp_path, db_url=postgres_url, latency=TELEGRAM_LATENCY) as w:
        w.write_config()
        prepare_wave(w, PEOPLE, FIRST)
        planning.plan(w.engine, config.load(w.root / "config.toml"), START)
        a = w.start_bot(EXECBOT_CLOCK_START=START.isoformat())
        w.wait("a to poll", lambda: polling_as(a), timeout=60)
        clock_b = START + timedelta(seconds=time.monotonic() - began)
        b = w.start_bot(EXECBOT_CLOCK_START=clock_b.isoformat())
        w.wait("b to wait for the lease", lambda: "waiting for the lease poller" in log_text(b))
        w.wait("every person nudged", lambda: all(nudge_counts(w, CHATS).values()), timeout=60)
        nudges = {
            chat: next(m["message_id"] for m in w.messages(chat) if m["from"] == "bot")
            for chat in CHATS
        }

        # Both up for a while: only a polls (b never logged "polling as").
        w.client.tap(CHATS[0], nudges[CHATS[0]], label=DONE)
        w.wait("the first tap stored", lambda: (CHATS[0], "done") in stored(w))
        time.sleep(3)
        assert len(polling_as(a)) == 1 and polling_as(b) == [], w.logs()
        assert len(sending_as(a) + sending_as(b)) == 1, w.logs()  # one sender of the two

        a.kill()
        killed = time.monotonic()
        w.client.tap(CHATS[1], nudges[CHATS[1]], label=DONE)  # sent after the kill
        w.wait("b to poll", lambda: polling_as(b), timeout=15)
        took_over = time.monotonic() - killed
        w.wait("the tap sent after the kill stored", lambda: (CHATS[1], "done") in stored(w))
        handled = time.monotonic() - killed
        if not sending_as(b):  # a sent: b takes that over too
            w.wait("b to send", lambda: sending_as(b), timeout=10)
        assert took_over < 10, f"b polled {took_over:.1f} s after the kill\n{w.logs()}"
        assert stored(w) == [(CHATS[0], "done"), (CHATS[1], "done")]
        assert b.popen.poll() is None
        assert "Traceback" not in log_text(b), w.logs()
    print(f"\nstandby polled {took_over:.1f} s after the kill; the tap stored at {handled:.1f} s")


def test_sigterm_hands_polling_over_at_once(tmp_path: Path, postgres_url: str) -> None:
    with world(tmp_path, db_url=postgres_url, latency=TELEGRAM_LATENCY) as w:
        w.write_config()
        a = w.start_bot()
        w.wait("a to poll", lambda: polling_as(a), timeout=60)
        b = w.start_bot()
        w.wait("b to wait for the lease", lambda: "waiting for the lease poller" in log_text(b))
        w.wait("a to send", lambda: sending_as(a), timeout=10)
        time.sleep(1)
        began = time.monotonic()
        code = a.stop()  # SIGTERM
        stopped = time.monotonic() - began
        w.wait("b to poll", lambda: polling_as(b), timeout=10)
        w.wait("b to send", lambda: sending_as(b), timeout=10)
        took_over = time.monotonic() - began
        assert code == 0 and stopped < 10, f"exit {code} after {stopped:.1f} s\n{w.logs()}"
        assert took_over < stopped + 4, f"b took over {took_over:.1f} s after SIGTERM"
        with Session(w.engine) as session:
            leases = session.execute(select(Lease)).scalars()
            holders = {lease.name: lease.holder for lease in leases}
        assert holders["poller"] == polling_as(b)[0] and holders["sender"] == sending_as(b)[0]
    print(f"\nSIGTERM: a exited in {stopped:.1f} s; b polled and sent {took_over:.1f} s after")
