"""The custom polling loop (bot.delivery.polling) confirms an update only after it is stored in
the inbox: a bot that dies in the middle of an update (here: the task is cancelled while its
answer is on the way, as SIGKILL would stop a process) leaves the update stored and its answer
in the outbox; the next bot sends that answer, and the reply is stored once."""

from __future__ import annotations

from sqlmodel import select

from models.tables import AuditEvent, InboxUpdate, Reply
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, WALT, morning

ANSWER = r"^(Recorded: 1\. Close the valve is done\.|Already recorded as ✅ done\.)$"


def replies(h: Harness) -> list[Reply]:
    with h.session() as session:
        return list(session.exec(select(Reply)).all())


async def test_an_update_in_hand_at_a_crash_is_delivered_again_and_stored_once(
    h: Harness,
) -> None:
    await morning(h)
    await h.message(WALT, NUDGE)
    await h.settle()
    await h.people.add_fault("delay", method="sendMessage", seconds=3, count=1)
    sent = await h.people.send_text(WALT, "done 1")
    update_id = sent["update_id"]

    await h.wait("the answer stored", lambda: replies(h))
    await h.until("its answer on the way", lambda: _no_faults(h))  # held by the sandbox
    assert h.pending_updates() == [], "confirmed once stored"
    await h.bot.crash()
    with h.session() as session:
        stored = session.exec(select(InboxUpdate)).all()
    assert [u.update_id for u in stored] == [update_id]

    mark = await h.last_id(WALT)
    await h.start_bot()
    await h.settle()  # the answer left in the outbox is sent
    await h.message(WALT, ANSWER, after=mark)
    [reply] = replies(h)
    assert (reply.kind, reply.via, reply.telegram_update_id) == ("done", "command", update_id)
    with h.session() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.kind == "reply.recorded")).all()
    assert len(events) == 1


async def _no_faults(h: Harness) -> bool:
    return not await h.people.faults()
