"""Which answers bring the escalation pass forward (``Outcome.wake_escalation``, read by
handlers/replies.py; ``scheduler.jobs.wake_escalation``): a block reaches the team leader at
once, with no tick and no pass run by the test; twenty quick "done" taps wake no pass; and
however many wakes arrive while a woken pass runs, one more run follows it, no more.

Unlike the other adapter tests, the periodic jobs are scheduled here (as ``execbot run`` does,
an hour apart so no tick comes during the test): a wake only brings a scheduled pass forward.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram.ext import CallbackContext

from scheduler import jobs
from tests.adapters.harness import Harness, harness
from tests.adapters.org import CONFIG, NUDGE, START

TL = 300
WORKERS = {f"w{i}": 301 + i for i in range(21)}  # w0..w19 answer done, w20 is blocked
DONE = 20


def org() -> str:
    parts = [
        '[[units]]\nkey = "team"\nname = "Team"\nkind = "team"\nleader = "tl"\n',
        '[[people]]\nkey = "tl"\nname = "Tina Lead"\nunit = "team"\npost = "team leader"\n',
        '[[duties]]\nkey = "round"\ntitle = "Morning round"\npost = "operator"\nunit = "team"\n'
        'nudge = "07:00"\ndue = "+20m"\n',
    ]
    for key in WORKERS:
        parts.append(
            f'[[people]]\nkey = "{key}"\nname = "Worker {key}"\nunit = "team"\npost = "operator"\n'
        )
    return "\n".join(parts)


async def nudge_of(h: Harness, chat: int) -> int:
    return int((await h.message(chat, NUDGE))["message_id"])


async def test_a_block_wakes_the_pass_at_once_and_done_taps_wake_none(
    tmp_path: Path, template_db: Path
) -> None:
    async with harness(tmp_path, template_db, START, config_extra=CONFIG) as h:
        h.import_org(org())
        await h.bind({"tl": TL, **WORKERS})
        await h.start_bot()
        await h.run_pass("plan", "nudges")
        context = CallbackContext(h.bot.app)
        jobs.repeat(context)  # the passes scheduled, their next tick an hour away
        woken = h.bot.app.bot_data.escalation

        # Twenty workers tap Done in quick succession: all recorded, no pass woken.
        chats = list(WORKERS.values())
        nudges = [await nudge_of(h, chat) for chat in chats]
        await asyncio.gather(
            *(
                h.people.tap(chat, nudge, label="1 ✅ Done")
                for chat, nudge in zip(chats[:DONE], nudges, strict=False)
            )
        )
        for chat in chats[:DONE]:
            await h.toast(chat, r"^Recorded: 1\. Morning round is done\.$")
        await h.settle()
        assert woken.runs == 0 and woken.task is None

        # A block: the team leader hears at once, from the pass the block woke.
        blocked = chats[DONE]
        await h.people.tap(blocked, nudges[DONE], label="1 ⛔ Blocked")
        ask = await h.message(blocked, r"Why is 1\. Morning round blocked\?")
        await h.people.tap(blocked, ask["message_id"], label="Waiting on others")
        await h.message(TL, r"Worker w20 — 1\. Morning round: ⛔ blocked \(Waiting on others\)")
        assert woken.runs == 1

        # Fifty wakes while a woken run is in flight (waiting here behind a tick's pass,
        # which holds the pass's lock): one more run after it, no more.
        async with woken.lock:
            jobs.wake_escalation(context)
            first = woken.task
            assert first is not None
            await h.wait("the woken run to start", lambda: woken.runs == 2)
            for _ in range(50):
                jobs.wake_escalation(context)
            assert woken.task is first  # queued on the run in flight, no second task
        await asyncio.wait_for(first, 10)
        assert woken.runs == 3 and not woken.again
