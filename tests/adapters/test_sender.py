"""The sender (bot.delivery.sender), run as the product runs it (started by ``post_init``), with
Telegram's limits on in the sandbox: a nudge wave goes out paced (no 429, at most 30 a second),
each outcome is recorded (sent with Telegram's message id; a failure with a retry time on the
bot's clock), and a failed send goes out once its retry is due."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import update
from sqlmodel import col, select

from models.tables import Outbox, Person
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, wave_org

PEOPLE, FIRST = 45, 20_000
CHATS = range(FIRST, FIRST + PEOPLE)


async def test_a_wave_goes_out_paced_and_every_outcome_is_recorded(paced: Harness) -> None:
    h = paced
    h.import_org(wave_org(PEOPLE))
    for i in CHATS:
        await h.people.create_person(f"P{i}", id=i, started=True)
    with h.session() as session:
        for i in CHATS:
            key = f"p{i - FIRST}"
            session.execute(update(Person).where(col(Person.key) == key).values(telegram_user_id=i))
        session.commit()
    await h.people.add_fault("error", method="sendMessage", status=500, count=1)
    await h.start_bot()
    began = time.monotonic()
    await h.run_pass("plan", "nudges")

    def outbox() -> list[Outbox]:
        with h.session() as session:
            return list(session.exec(select(Outbox).order_by(col(Outbox.id))).all())

    # 45 sends paced at about 26 a second take 2-3 s; a busy CI machine may take several times
    await h.wait("every send's outcome", lambda: _settled(outbox()), timeout=30)
    elapsed = time.monotonic() - began
    rows = outbox()
    states = Counter(o.state for o in rows)
    assert states == {"sent": PEOPLE - 1, "pending": 1}
    [failed] = [o for o in rows if o.state == "pending"]
    assert failed.attempts == 1 and "Internal Server Error" in (failed.last_error or "")
    assert failed.next_attempt_at > h.clock()  # a retry time on the bot's clock: not yet due
    counters = await h.people.counters()
    assert counters["429"] == 0, counters  # the sandbox enforces Telegram's limits
    assert elapsed >= (PEOPLE - 1) / 30, "not paced: the wave went out too fast"

    h.clock.advance(seconds=10)  # the retry falls due; the sender looks again within a second
    await h.wait("the retry sent", lambda: {o.state for o in outbox()} == {"sent"})
    for row in outbox():
        [message] = [m for m in await h.messages(row.chat_id) if NUDGE in (m["text"] or "")]
        assert row.telegram_message_id == message["message_id"]
        assert row.sent_at is not None and row.sent_at <= h.clock()
    sends = Counter(c["params"]["chat_id"] for c in await h.people.calls("sendMessage"))
    assert sorted(sends.values()) == [1] * (PEOPLE - 1) + [2]  # the failed one, tried twice


def _settled(rows: list[Outbox]) -> bool:
    """Every nudge queued and tried: sent, or failed and waiting for its retry."""
    tried = [o for o in rows if o.state == "sent" or (o.state == "pending" and o.attempts)]
    return len(tried) == len(rows) == PEOPLE
