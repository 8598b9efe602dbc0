"""``/team`` and ``/overdue`` (handlers/board.py): the leader's board over their units, the
head's over theirs and the units below; a worker is refused."""

from __future__ import annotations

from tests.adapters.harness import Harness
from tests.adapters.org import TL, W1, WH, escalated

OPEN = [
    "• Willy One — 1. Read the meters: open, unowned",
    "• Wanda Two — 1. Service the pump: open, unowned",
]


async def test_the_board_for_leaders_and_a_refusal_for_workers(h: Harness) -> None:
    await escalated(h)
    mark_tl, mark_wh, mark_w1 = [await h.last_id(chat) for chat in (TL, WH, W1)]
    for chat in (TL, WH, W1):
        await h.people.send_command(chat, "team")
        await h.people.send_command(chat, "overdue")
    await h.settle()

    team = (await h.message(TL, "^Today, Tue, Nov 17:", after=mark_tl))["text"]
    assert team.splitlines() == [
        "Today, Tue, Nov 17:",
        "Team: ✅ 0 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 6",
        "Open items:",
        *OPEN,
    ]
    overdue = (await h.message(TL, "^Past due and unowned:", after=mark_tl))["text"]
    assert overdue.splitlines() == ["Past due and unowned:", *OPEN]
    head = (await h.message(WH, "^Today, Tue, Nov 17:", after=mark_wh))["text"]
    assert head.splitlines()[1:3] == [
        "Workshop: ✅ 0 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 6",
        "  Team: ✅ 0 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 6",
    ]
    worker = (await h.texts(W1))[-2:]
    assert worker == ["Sorry, that is only for leaders."] * 2
    assert await h.last_id(W1) == mark_w1 + 4  # two commands, two refusals, nothing else
