"""``/dead`` (handlers/dead.py) and the dead pass: a nudge Telegram refuses for good (the
person blocked the bot) is given up, the admin hears of it once, ``/dead`` lists it for the
admin in a private chat, and anyone else is refused."""

from __future__ import annotations

import re

from sqlmodel import select

from models.tables import AuditEvent, Outbox
from tests.adapters.harness import Harness
from tests.adapters.org import TL, WALT, WH, morning


async def test_a_message_given_up_is_reported_once_and_listed_for_admins(h: Harness) -> None:
    await h.people.block(WALT)
    await morning(h)

    async def given_up() -> list[Outbox]:
        with h.session() as session:
            return list(session.exec(select(Outbox).where(Outbox.state == "dead")).all())

    [dead] = await h.until("the nudge to Walt given up", given_up)
    assert (dead.kind, dead.chat_id) == ("nudge", WALT)
    await h.run_pass("dead")
    report = (await h.message(WH, "could not be delivered"))["text"]
    assert report.startswith("⚠️ 1 message could not be delivered and was given up:")
    assert re.search(r"#\d+ nudge to Walt Worker \(walt\), Nov 17, 07:00: .*blocked", report, re.I)

    await h.people.send_command(WH, "dead")
    listing = (await h.message(WH, "^Messages given up"))["text"]
    assert listing.startswith("Messages given up: 1, newest first.")
    assert "nudge to Walt Worker (walt)" in listing
    await h.people.send_command(TL, "dead")
    await h.message(TL, "only for admins")

    await h.run_pass("dead")  # again: the admins were told already
    await h.settle()
    assert len([t for t in await h.texts(WH) if "could not be delivered" in t]) == 1
    with h.session() as session:
        kinds = [e.kind for e in session.exec(select(AuditEvent)).all()]
        to_admin = session.exec(select(Outbox).where(Outbox.chat_id == WH)).all()
    assert kinds.count("delivery.dead_reported") == 1
    assert [("could not be delivered" in o.payload["text"], o.kind) for o in to_admin] == [
        (True, "dead_report"),
        (False, "reply"),  # the answer to /dead
    ]
