"""The private-only guard (handlers/common.private_only): in a group, a command of this bot
gets a one-line pointer to the private chat, a tap gets it as its toast, and nothing else is
answered or done; another bot's command and plain text get nothing."""

from __future__ import annotations

import re

from sqlmodel import select

from models.tables import Occurrence
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, START, TL, W1, morning

GROUP = -100777
POINTER = r"^I answer only in a private chat: open https://t\.me/execbot_sandbox_bot and write to me there\.$"  # noqa: E501


def reading(h: Harness) -> Occurrence:
    with h.session() as session:
        query = select(Occurrence).where(Occurrence.duty_id == 1, Occurrence.day == START.date())
        return session.exec(query).one()


async def test_commands_and_taps_in_a_group_get_a_pointer_and_do_nothing(h: Harness) -> None:
    await morning(h)
    await h.message(W1, NUDGE)
    occ = reading(h)
    await h.people.create_group("Shift A", [TL, W1], id=GROUP)
    private_before = len(await h.messages(TL)), len(await h.messages(W1))

    await h.people.send_command(TL, "team@some_other_bot", chat_id=GROUP)  # not ours
    await h.people.send_text(W1, "done 1", chat_id=GROUP)  # plain text
    for who, command in ((TL, "team"), (TL, "overdue@execbot_sandbox_bot"), (W1, "today")):
        await h.people.send_command(who, command, chat_id=GROUP)
    pointer = await h.message(GROUP, POINTER)
    await h.people.tap(TL, pointer["message_id"], data=f"e:a:{occ.id}", chat_id=GROUP, forge=True)
    await h.people.tap(W1, pointer["message_id"], data=f"r:d:{occ.id}", chat_id=GROUP, forge=True)
    await h.settle()

    said = await h.texts(GROUP)
    assert len(said) == 3 and all(re.match(POINTER, t) for t in said), said
    toasts = await h.toasts(GROUP)
    assert len(toasts) == 2 and all(re.match(POINTER, t) for t in toasts), toasts
    after = reading(h)
    assert (after.status, after.acked_by) == ("open", None)
    assert (len(await h.messages(TL)), len(await h.messages(W1))) == private_before
    assert (await h.people.counters())["unanswered_callback_queries"] == 0
