"""One inbox, concurrent handling (issue 12), end to end: ``execbot run`` and the sandbox as
processes, Telegram's limits on and 100-300 ms of Bot API latency.

- Head of line: while Ann taps her 15 duties 0.3 s apart and a stranger sends 40 messages,
  Bob's tap is answered within 1 s; during a 60 s pause after a 429 on sendMessage taps are
  still answered within 1 s, and the messages arrive after the pause.
- SIGTERM during a burst of taps: the bot exits within 10 s, leaves no update or message
  claimed, and after a restart every tap is in the inbox exactly once and answered.

Answer times come from the sandbox's call log: the tap is created (the person API returns)
and the answerCallbackQuery call for its query id is logged with its time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import config
from bot.services import planning
from models.tables import InboxUpdate, Outbox, Person, Reply
from sandbox.client import SandboxClient
from tests.e2e.harness import World, world

ANN, BOB, STRANGER = 951, 952, 959
START = "2026-11-17T06:59:58+01:00"  # a Tuesday; nudges at 07:00
LATENCY = (0.1, 0.3)
ANSWER_WITHIN = 1.0  # seconds from the tap to its answer
TAPS = 34  # in the SIGTERM burst


def org() -> str:
    parts = [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\nleader = "lead"\n',
        '[[people]]\nkey = "lead"\nname = "Lea Leader"\nunit = "plant"\npost = "manager"\n',
        '[[people]]\nkey = "ann"\nname = "Ann Busy"\nunit = "plant"\npost = "operator"\n',
        '[[people]]\nkey = "bob"\nname = "Bob Calm"\nunit = "plant"\npost = "operator"\n',
    ]
    duties = [("ann", f"a{i}", f"Check point {i}") for i in range(1, 16)]
    duties += [("bob", "b1", "Close the valve"), ("bob", "b2", "Fix the pump")]
    for who, key, title in duties:
        parts.append(
            f'[[duties]]\nkey = "{key}"\ntitle = "{title}"\nassignee = "{who}"\n'
            'nudge = "07:00"\ndue = "11:00"\n'
        )
    return "\n".join(parts)


CONFIG = """
[replies]
grace = "1h"
[escalation]
group_window = "0s"
quiet_hours = ""
"""


def start(w: World) -> tuple[dict[str, Any], dict[str, Any]]:
    w.write_config(CONFIG)
    (w.root / "org.toml").write_text(org())
    w.execbot("org", "import", str(w.root / "org.toml"))
    chats = {"ann": ANN, "bob": BOB}
    for key, chat in chats.items():
        w.client.create_person(key, id=chat, started=True)
    w.client.create_person("Eve", id=STRANGER, started=True)
    with Session(w.engine) as session:
        for key, chat in chats.items():
            session.execute(
                update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
            )
        session.commit()
    planning.plan(w.engine, config.load(w.root / "config.toml"), datetime.fromisoformat(START))
    w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=START))
    return w.bot_message(ANN, "your duties for"), w.bot_message(BOB, "your duties for")


def done_buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "Done" in b["text"]]


def answer_times(w: World) -> dict[str, float]:
    """When each callback query was first answered (unix time of the call), by query id."""
    answered: dict[str, float] = {}
    for call in w.client.calls("answerCallbackQuery"):
        if call["status"] == 200:
            answered.setdefault(str(call["params"]["callback_query_id"]), float(call["time"]))
    return answered


def tap_and_time(w: World, chat: int, message_id: int, data: str) -> float:
    """Tap, wait for the answer; the seconds from the tap to its answer."""
    tapped = time.time()
    query = w.client.tap(chat, message_id, data=data, forge=True)
    answered = w.wait(f"the answer to {query}", lambda: answer_times(w).get(query), every=0.05)
    return answered - tapped


def in_background(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_taps_are_answered_within_a_second_behind_a_busy_chat_a_flood_and_a_429(
    tmp_path: Path,
) -> None:
    with world(tmp_path, latency=LATENCY) as w:
        ann, bob = start(w)
        ann_done, bob_done = done_buttons(ann), done_buttons(bob)
        assert len(ann_done) == 15 and len(bob_done) == 2

        def ann_taps() -> None:
            with SandboxClient(w.url) as client:
                for data in ann_done:
                    client.tap(ANN, ann["message_id"], data=data, forge=True)
                    time.sleep(0.3)

        def stranger_writes() -> None:
            with SandboxClient(w.url) as client:
                for i in range(40):
                    client.send_text(STRANGER, f"hello {i}")

        busy = [in_background(ann_taps), in_background(stranger_writes)]
        time.sleep(1.5)  # in the middle of both
        waited = tap_and_time(w, BOB, bob["message_id"], bob_done[0])
        for thread in busy:
            thread.join(30)
        assert waited < ANSWER_WITHIN, f"Bob's tap waited {waited:.2f}s"
        w.wait("Ann's 15 taps answered", lambda: len(answer_times(w)) == 16)
        with Session(w.engine) as session:
            assert session.exec(select(func.count()).select_from(Reply)).one() == 16
        # The stranger hears one refusal, not 40.
        w.wait("the refusal", lambda: any(m["from"] == "bot" for m in w.messages(STRANGER)))
        w.wait("the stranger's messages handled", lambda: _handled(w) >= 40 + 16)
        refusals = [m for m in w.messages(STRANGER) if m["from"] == "bot"]
        assert len(refusals) == 1, refusals

        # A 429 on sendMessage pauses the sends a minute; taps are answered meanwhile.
        w.client.add_fault("error", method="sendMessage", status=429, retry_after=60)
        mark = max(m["message_id"] for m in w.messages(BOB))
        w.client.send_text(BOB, "done 2")
        w.wait("the 429", lambda: w.client.counters()["429"] >= 1, timeout=20)
        hit = time.monotonic()
        during = [tap_and_time(w, ANN, ann["message_id"], data) for data in ann_done[:3]]
        during.append(tap_and_time(w, BOB, bob["message_id"], bob_done[0]))
        assert time.monotonic() - hit < 60, "the taps must fall within the pause"
        assert max(during) < ANSWER_WITHIN, f"taps during the 429 pause waited {during}"
        answer = w.bot_message(BOB, r"^Recorded: 2\. Fix the pump is done", after=mark, timeout=90)
        assert answer, "the message arrives after the pause"
        assert time.monotonic() - hit >= 55, "sent only after the pause"
        print(f"\nBob's tap behind the busy chat and the flood: {waited:.3f}s")
        print(f"taps during the 429 pause: {', '.join(f'{s:.3f}s' for s in during)}")


def _handled(w: World) -> int:
    with Session(w.engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(InboxUpdate)
                .where(col(InboxUpdate.state) == "done")
            ).one()
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigterm_during_a_burst_of_taps_exits_within_10s_and_every_tap_is_stored_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = None if backend == "sqlite" else str(request.getfixturevalue("postgres_url"))
    with world(tmp_path, latency=LATENCY, db_url=url) as w:
        ann, bob = start(w)
        buttons = [(ANN, ann["message_id"], data) for data in done_buttons(ann)]
        buttons += [(BOB, bob["message_id"], data) for data in done_buttons(bob)]
        queries: list[str] = []

        def burst() -> None:  # Ann and Bob tap their buttons, and again
            with SandboxClient(w.url) as client:
                for i in range(TAPS):
                    chat, message_id, data = buttons[(i * 7) % len(buttons)]
                    queries.append(client.tap(chat, message_id, data=data, forge=True))
                    time.sleep(0.1)

        thread = in_background(burst)
        time.sleep(1.5)
        stopped_at = time.monotonic()
        code = w.bots[-1].stop()  # SIGTERM
        took = time.monotonic() - stopped_at
        assert code == 0, w.logs()
        assert took < 10, f"took {took:.1f}s to stop"
        with Session(w.engine) as session:
            claimed = session.exec(
                select(func.count())
                .select_from(InboxUpdate)
                .where(col(InboxUpdate.state) == "handling")
            ).one()
            sending = session.exec(
                select(func.count()).select_from(Outbox).where(col(Outbox.state) == "sending")
            ).one()
        assert (claimed, sending) == (0, 0), "claims left behind at the stop"
        thread.join(30)
        assert len(queries) == TAPS

        w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=START))
        w.wait("every tap handled", lambda: _stored_taps(w, queries, handled=True), timeout=120)
        stored = _stored_taps(w, queries, handled=False) or []
        assert sorted(stored) == sorted(queries), "each tap stored exactly once"
        print(f"\nSIGTERM to exit: {took:.2f}s; {len(queries)} taps stored once each")


def _stored_taps(w: World, queries: list[str], *, handled: bool) -> list[str] | None:
    with Session(w.engine) as session:
        rows = session.exec(select(InboxUpdate)).all()
    taps = [r for r in rows if "callback_query" in r.payload]
    ids = [str(r.payload["callback_query"]["id"]) for r in taps]
    if handled and (any(r.state != "done" for r in taps) or not set(queries) <= set(ids)):
        return None
    return [i for i in ids if i in set(queries)]
