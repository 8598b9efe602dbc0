"""A database stall while a wave is being sent: the SQLite file locked by another writer for
15 seconds, or the bot's PostgreSQL backends terminated during the write-back. Whatever was
sent stays sent: every person gets the nudge exactly once (only a message in flight at a
crash may repeat, and nothing crashes here).

The virtual clock runs 30 times as fast, so the sender's 5-minute claim lease passes in 10
real seconds: a sender that dropped the outcomes it could not write would see its own claims
expire and send the whole batch again."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text, update
from sqlmodel import Session, col, func, select

from bot.store.engine import make_engine
from models.tables import Outbox, Person
from tests.e2e.harness import World, world

PEOPLE = 150
FIRST_CHAT = 5000
SPEED = "30"
START = "2026-11-17T06:59:45+01:00"  # a Tuesday; the nudge at 07:00 comes 0.5 s later
HOLD = 15.0  # seconds the database stays unavailable for writing


def wave_org() -> str:
    people = "".join(
        f'[[people]]\nkey = "p{i}"\nname = "Person {i}"\nunit = "team"\npost = "operator"\n\n'
        for i in range(PEOPLE)
    )
    return (
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\nleader = "boss"\n\n'
        '[[units]]\nkey = "team"\nname = "Team"\nkind = "team"\nparent = "plant"\n\n'
        '[[people]]\nkey = "boss"\nname = "Bea Boss"\nunit = "plant"\npost = "manager"\n\n'
        + people
        + '[[duties]]\nkey = "reading"\ntitle = "Record the meter readings"\n'
        'post = "operator"\nunit = "team"\nnudge = "07:00"\ndue = "09:00"\n'
    )


def set_up_wave(w: World) -> None:
    """The org imported and every worker already in a chat with the bot."""
    (w.root / "org.toml").write_text(wave_org())
    w.execbot("org", "import", str(w.root / "org.toml"))
    for i in range(PEOPLE):
        w.client.create_person(f"P{i}", id=FIRST_CHAT + i, started=True)
    with Session(w.engine) as session:
        for i in range(PEOPLE):
            session.execute(
                update(Person)
                .where(col(Person.key) == f"p{i}")
                .values(telegram_user_id=FIRST_CHAT + i)
            )
        session.commit()


def delivered(w: World) -> Counter[int]:
    """Nudges Telegram accepted, per chat."""
    return Counter(
        int(call["params"]["chat_id"])
        for call in w.client.calls("sendMessage")
        if call["status"] == 200 and "your duties for" in str(call["params"].get("text"))
    )


def unsettled(w: World) -> int:
    """Nudges not yet recorded as sent (queued, claimed, or waiting for a retry)."""
    with Session(w.engine) as session:
        query = select(func.count()).where(Outbox.kind == "nudge", Outbox.state != "sent")
        return int(session.exec(query).one())


def run_wave_through(w: World, stall: Callable[[], None]) -> None:
    """Start the bot, let a part of the wave go out, ``stall`` the database, and check that
    once everything is recorded as sent, each person got the nudge exactly once."""
    bot = w.start_bot(EXECBOT_CLOCK_START=START, EXECBOT_CLOCK_SPEED=SPEED)
    w.wait_ready(bot)
    w.wait("the wave to start", lambda: len(delivered(w)) >= 20, timeout=60, every=0.05)
    stall()
    w.wait(
        "every nudge recorded as sent",
        lambda: len(delivered(w)) == PEOPLE and unsettled(w) == 0,
        timeout=90,
        every=0.5,
    )
    # Recorded as sent is final: nothing sends those rows again. A sender that had dropped
    # what it could not record would have waited out its lease and sent them a second time.
    counts = delivered(w)
    doubled = sorted(chat for chat, n in counts.items() if n > 1)
    assert doubled == [], f"{len(doubled)} people got the nudge more than once"
    assert sorted(counts) == [FIRST_CHAT + i for i in range(PEOPLE)]
    assert bot.popen.poll() is None, w.logs()


def test_item1_sqlite_locked_mid_wave_sends_each_nudge_once(tmp_path: Path) -> None:
    with world(tmp_path, latency=(0.1, 0.3)) as w:
        w.write_config()
        set_up_wave(w)

        def lock_the_file() -> None:
            """Another writer holds the SQLite file for HOLD seconds (longer than the bot's
            10-second busy timeout), while the rest of the wave is being sent."""
            other = sqlite3.connect(tmp_path / "execbot.db", isolation_level=None, timeout=30)
            try:
                other.execute("BEGIN EXCLUSIVE")
                time.sleep(HOLD)  # the stall itself: holding the lock this long is the scenario
                other.execute("COMMIT")
            finally:
                other.close()

        run_wave_through(w, lock_the_file)
        assert "database is locked" in (tmp_path / "bot-0.log").read_text()


BOT_APP = "execbot_item1_bot"  # the bot's PostgreSQL application_name, to find its backends


def test_item1_postgres_backend_killed_during_write_back_sends_each_nudge_once(
    tmp_path: Path, postgres_url: str
) -> None:
    url = f"{postgres_url}&application_name={BOT_APP}"
    with world(tmp_path, db_url=url, latency=(0.1, 0.3)) as w:
        w.write_config()
        set_up_wave(w)
        locker = make_engine(postgres_url)

        def kill_the_writer() -> None:
            """Hold the outbox table so the bot's next write of outcomes waits, then terminate
            every backend of the bot (that write's among them) and let go."""
            with locker.begin() as conn:
                conn.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))

                def writer_waiting() -> bool:
                    conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                    waiting = conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"
                            " AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE outbox%'"
                        ),
                        {"app": BOT_APP},
                    )
                    return bool(waiting.scalar())

                w.wait("the bot to be writing outcomes", writer_waiting, timeout=30, every=0.05)
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE application_name = :app AND pid <> pg_backend_pid()"
                    ),
                    {"app": BOT_APP},
                ).scalar()
                assert killed

        try:
            run_wave_through(w, kill_the_writer)
        finally:
            locker.dispose()
