"""``/help`` by role (handlers/help.py): a worker's help, a leader's with the leader part, an
admin's with both; a stranger is refused politely and leaves nothing behind."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from models.tables import AuditEvent
from tests.adapters.harness import Harness
from tests.adapters.org import TL, WALT, WH

STRANGER = 6002


async def test_help_by_role_and_a_stranger_refused(h: Harness) -> None:
    await h.start_bot()
    await h.people.create_person("Eve", id=STRANGER)
    with h.session() as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    for chat in (WALT, TL, WH, STRANGER):
        await h.people.send_command(chat, "help")
    await h.settle()

    [worker] = await h.texts(WALT)
    [leader] = await h.texts(TL)
    [admin] = await h.texts(WH)
    assert "/today" in worker and "As a leader" not in worker
    assert leader.startswith(worker) and "As a leader" in leader and "/team" in leader
    assert admin.startswith(leader) and len(admin) > len(leader)
    [refusal] = await h.texts(STRANGER)
    assert "I don't know you yet" in refusal
    with h.session() as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
