"""The weekly report (bot/services/weekly.py, the ``weekly`` pass): on Monday at
``[reports] weekly_at`` every leader gets one photo, a chart that decodes as a 1080 px wide
PNG, with a caption of their subtree's week; a second pass in the same minute, and one after
a restart, sends nothing more."""

from __future__ import annotations

import io
from datetime import datetime
from functools import partial

import httpx
import pytest
from PIL import Image
from sqlmodel import select

from bot.services import weekly
from models.tables import Outbox
from sandbox.server import DEFAULT_TOKEN
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, TL, W1, W2, WALT, WH, morning

MONDAY = datetime.fromisoformat("2026-11-23T07:00:20+01:00")  # Berlin: the report is due


async def photos(h: Harness, chat: int) -> list[dict[str, object]]:
    return [m for m in await h.messages(chat) if m["photo"] is not None]


async def test_each_leader_gets_the_weekly_chart_once(h: Harness) -> None:
    # Tuesday 17 November: Willy is done on time, Wanda is blocked (materials: process),
    # Walt's four duties stay open. The plan covers Tuesday and Wednesday (today and
    # tomorrow), nobody answers on Wednesday: the week has 12 due, 1 on time: 8 %.
    await morning(h)
    willy = await h.message(W1, NUDGE)
    await h.people.tap(W1, willy["message_id"], label="1 ✅ Done")
    wanda = await h.message(W2, NUDGE)
    await h.people.tap(W2, wanda["message_id"], label="1 ⛔ Blocked")
    ask = await h.message(W2, r"blocked\?")
    await h.people.tap(W2, ask["message_id"], label="Materials or tools")
    await h.toast(W2, "Materials or tools")
    await h.message(WALT, NUDGE)
    await h.run_pass("weekly")  # Tuesday: no report is due
    await h.settle()
    assert await photos(h, WH) == [] and await photos(h, TL) == []

    h.clock.set(MONDAY)
    await h.run_pass("weekly")
    await h.settle()
    await h.run_pass("weekly")  # the same minute again
    await h.settle()
    await h.bot.stop()
    await h.start_bot()  # a restart at that minute
    await h.run_pass("weekly")
    await h.settle()

    for chat, unit in ((WH, "Workshop"), (TL, "Team")):
        [photo] = await h.until(f"the weekly photo in chat {chat}", partial(_some, h, chat))
        assert photo["caption"] == (
            f"{unit}, week 47 (Nov 16 – Nov 22)\nOn time: 8%\nNot done: 0 · unresolved blocks: 0"
        )
        info = photo["photo"]
        assert isinstance(info, dict)
        url = f"{h.server.file_base}{DEFAULT_TOKEN}/{info['file_path']}"
        async with httpx.AsyncClient() as client:
            data = (await client.get(url)).content
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            assert image.size == (1080, 1920)
    with h.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "weekly")).all()
    assert sorted((row.chat_id, row.state) for row in rows) == [(WH, "sent"), (TL, "sent")]


async def _some(h: Harness, chat: int) -> list[dict[str, object]] | None:
    return await photos(h, chat) or None


async def test_leaders_beyond_a_pass_s_charts_get_theirs_at_the_next_pass(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(weekly, "CHARTS_PER_PASS", 1)
    await h.start_bot()
    h.clock.set(MONDAY)
    await h.run_pass("weekly")
    await h.settle()
    await h.until("Walter's weekly photo", partial(_some, h, WH))
    assert await photos(h, TL) == []  # one chart a pass: Walter's (the lower id) first
    h.clock.advance(minutes=1)
    await h.run_pass("weekly")
    await h.settle()
    await h.until("Tina's weekly photo", partial(_some, h, TL))
    await h.run_pass("weekly")
    await h.settle()
    assert [len(await photos(h, chat)) for chat in (WH, TL)] == [1, 1]
    [tina] = await photos(h, TL)
    assert tina["caption"] == (  # nothing was planned: nothing due, no rate
        "Team, week 47 (Nov 16 – Nov 22)\nOn time: –\nNot done: 0 · unresolved blocks: 0"
    )
