"""Tap-to-answer timing and Telegram's answer window for callback queries.

https://core.telegram.org/bots/api#answercallbackquery: "After the user presses a callback
button, Telegram clients will display a progress bar until you call answerCallbackQuery."
Telegram refuses an answer that comes too late (about 15 s after the tap) with 400 "Bad
Request: query is too old and response timeout expired or query ID is invalid"; the
sandbox does the same and counts how long every first answer took."""

from __future__ import annotations

import asyncio

from sandbox.client import AsyncSandboxClient

from .conftest import Api, started
from .test_strict import QUERY_INVALID, inline


async def _tap(api: Api, people: AsyncSandboxClient, chat: int) -> str:
    sent = await api.ok("sendMessage", chat_id=chat, text="Done?", reply_markup=inline(("Y", "y")))
    return await people.tap(chat, sent["message_id"], label="Y")


async def test_tap_to_answer_latency_is_measured(api: Api, people: AsyncSandboxClient) -> None:
    chat = await started(people)
    before = (await people.counters())["tap_to_answer_ms"]
    assert before == {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    quick = await _tap(api, people, chat)
    await api.ok("answerCallbackQuery", callback_query_id=quick)
    slow = await _tap(api, people, chat)
    await asyncio.sleep(0.3)
    await api.ok("answerCallbackQuery", callback_query_id=slow)
    counters = await people.counters()
    timing = counters["tap_to_answer_ms"]
    assert timing["count"] == 2
    assert timing["p50"] < 250  # the quick one: nearest rank of 2 values at 50% is the first
    assert 300 <= timing["max"] < 2000
    assert timing["p90"] == timing["p99"] == timing["max"]
    assert counters["late_callback_answers"] == 0
    assert counters["answered_callback_queries"] == 2


async def test_answer_after_the_window_is_refused_and_counted(
    api: Api, people: AsyncSandboxClient
) -> None:
    await people.set_limits(answer_window=0.3)
    chat = await started(people)
    on_time = await _tap(api, people, chat)
    late = await _tap(api, people, chat)
    await api.ok("answerCallbackQuery", callback_query_id=on_time)
    await asyncio.sleep(0.4)
    assert await api.error("answerCallbackQuery", callback_query_id=late) == (400, QUERY_INVALID)
    assert await api.error("answerCallbackQuery", callback_query_id=late) == (400, QUERY_INVALID)
    counters = await people.counters()
    assert counters["late_callback_answers"] == 1
    assert counters["answered_callback_queries"] == 1
    assert counters["unanswered_callback_queries"] == 1
    assert counters["tap_to_answer_ms"]["count"] == 2  # the second refusal is not a first answer
    assert counters["tap_to_answer_ms"]["max"] >= 400
    transcript = await people.transcript(chat)
    assert [e["callback_query_id"] for e in transcript if e["kind"] == "callback_answer"] == [
        on_time
    ]


async def test_the_window_is_telegrams_by_default(people: AsyncSandboxClient) -> None:
    assert (await people.limits())["answer_window"] == 15.0


async def test_reset_clears_the_timing(api: Api, people: AsyncSandboxClient) -> None:
    chat = await started(people)
    await api.ok("answerCallbackQuery", callback_query_id=await _tap(api, people, chat))
    await people.reset()
    counters = await people.counters()
    assert counters["tap_to_answer_ms"]["count"] == 0
    assert counters["late_callback_answers"] == 0
