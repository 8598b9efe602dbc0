"""Tap answers have their own HTTP client (bot.delivery.bot_http): while every connection of
the client that sends and edits is held by a stalled sendMessage, a tap is still answered,
before any of those sends has returned."""

from __future__ import annotations

import asyncio

from bot.app import CONNECTIONS
from bot.delivery.bot_http import AiohttpRequest, SplitRequest
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, W1, WALT, morning

STALL = 8.0  # seconds each send is held by the sandbox


async def test_a_tap_is_answered_while_every_send_connection_is_held(h: Harness) -> None:
    await morning(h)
    walt = (await h.message(WALT, NUDGE))["message_id"]
    await h.settle()
    bot = h.bot.app.bot
    request = bot.request
    assert isinstance(request, SplitRequest)
    assert isinstance(request.answers, AiohttpRequest)
    count = CONNECTIONS + 4  # more than the send client's connections: some wait for one
    await h.people.add_fault("delay", method="sendMessage", seconds=STALL, count=count)
    stalled = [
        asyncio.create_task(bot.send_message(W1, f"stalled {i}", read_timeout=3 * STALL))
        for i in range(count)
    ]
    try:
        # each stalled call takes a use of the fault: every connection of the send client
        # has a call on it, the other sends wait for one
        await h.wait("the sends to stall", lambda: _uses_left(h) <= count - CONNECTIONS or None)
        await h.people.tap(WALT, walt, label="1 ✅ Done")
        await h.toast(WALT, r"^Recorded: 1\. Close the valve is done\.$")
        assert not any(task.done() for task in stalled)  # answered while every send waits
    finally:
        await asyncio.wait(stalled, timeout=2 * STALL + 5)
    assert all(task.done() and task.exception() is None for task in stalled)


def _uses_left(h: Harness) -> int:
    return sum(fault["remaining"] for fault in h.server.sandbox.faults.as_list())
