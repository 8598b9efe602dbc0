"""Flood control: bursts get 429 with retry_after, pacing at the limits gets none.

https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this: "When
sending messages inside a particular chat, avoid sending more than one message per second.
We may allow short bursts that go over this limit, but eventually you'll begin receiving 429
errors. If you're sending bulk notifications to multiple users, the API will not allow more
than 30 messages per second or so. [...] Also note that your bot will not be able to send
more than 20 messages per minute to the same group."
https://core.telegram.org/bots/api#responseparameters: "retry_after: Optional. In case of
exceeding flood control, the number of seconds left to wait before the request can be
repeated".

The limiter is tested with a fake clock for the exact rule and over HTTP with small limits so
the suite stays fast.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
from telegram.error import RetryAfter

from sandbox.client import AsyncSandboxClient, SandboxError
from sandbox.ratelimit import Limits, RateLimiter
from sandbox.server import DEFAULT_TOKEN, SandboxServer

from .conftest import Api, started


def test_pacing_exactly_at_the_default_limits_is_never_refused() -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    "avoid sending more than one message per second" in a chat and "not [...] more than 30
    messages per second or so" overall: 1/s in each of 30 chats for a minute is accepted."""
    limiter = RateLimiter(Limits())
    for step in range(60 * 30):
        now = 1000.0 + step / 30.0
        assert limiter.admit(step % 30, False, True, now) == 0, step


def test_a_burst_to_one_chat_is_refused_after_the_burst() -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    "We may allow short bursts that go over this limit, but eventually you'll begin receiving
    429 errors." Default burst 3: the 4th message in the same instant waits one second."""
    limiter = RateLimiter(Limits())
    assert [limiter.admit(7, False, True, 50.0) for _ in range(5)] == [0, 0, 0, 1, 1]
    assert limiter.admit(7, False, True, 51.0) == 0


def test_the_global_limit_spans_chats() -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    "If you're sending bulk notifications to multiple users, the API will not allow more than
    30 messages per second or so." 30 chats in the same instant pass, the 31st does not."""
    limiter = RateLimiter(Limits())
    assert all(limiter.admit(chat, False, True, 5.0) == 0 for chat in range(30))
    assert limiter.admit(30, False, True, 5.0) == 1
    assert limiter.admit(30, False, False, 5.0) == 0  # an edit does not count globally


def test_groups_get_twenty_per_minute() -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    "your bot will not be able to send more than 20 messages per minute to the same group."
    Group bucket 20/min with burst 3: after the burst, one message every 3 seconds."""
    limiter = RateLimiter(Limits())
    assert [limiter.admit(-5, True, True, 0.0) for _ in range(4)] == [0, 0, 0, 3]
    assert limiter.admit(-5, True, True, 2.0) == 1
    assert limiter.admit(-5, True, True, 3.0) == 0
    for step in range(1, 40):  # then exactly 20 per minute, never refused
        assert limiter.admit(-5, True, True, 3.0 + 3.0 * step) == 0


@pytest.fixture
async def limited() -> AsyncIterator[SandboxServer]:
    limits = Limits(chat_rate=10.0, chat_burst=3, global_rate=20.0, global_burst=20)
    async with SandboxServer(limits=limits) as running:
        yield running


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_burst_to_one_chat_gets_429_with_retry_after(limited: SandboxServer) -> None:
    """https://core.telegram.org/bots/api#responseparameters: "retry_after: Optional. In case
    of exceeding flood control, the number of seconds left to wait before the request can be
    repeated". A burst to one chat: the 4th message is "Too Many Requests: retry after N"
    with parameters.retry_after = N, and python-telegram-bot raises RetryAfter. The chat's
    rate is one message per 10 s here, so a slow machine cannot refill a token mid-burst."""
    async with (
        AsyncSandboxClient(limited.url) as people,
        httpx.AsyncClient(base_url=limited.url) as http,
    ):
        await people.set_limits(chat_rate=0.1, chat_burst=3)
        chat = await started(people)
        api = Api(http)
        for _ in range(3):
            await api.ok("sendMessage", chat_id=chat, text="burst")
        status, body = await api("sendMessage", chat_id=chat, text="one too many")
        assert status == 429
        wait = body["parameters"]["retry_after"]
        assert 1 <= wait <= 10  # whole seconds until the next token
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {wait}",
            "parameters": {"retry_after": wait},
        }
        bot = telegram.Bot(DEFAULT_TOKEN, base_url=limited.api_base)
        async with bot:
            with pytest.raises(RetryAfter, match=r"Retry in \d+ seconds"):
                await bot.send_message(chat, "again")
        counters = await people.counters()
        assert counters["429"] == 2
        assert counters["statuses"]["429"] == 2


async def test_pacing_at_the_limits_gets_no_429(limited: SandboxServer) -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    staying at the limits is allowed. With limits 10/s per chat and 20/s overall, one chat
    paced at exactly 10/s, then four chats at 5/s each (20/s overall), never see a 429."""
    async with (
        AsyncSandboxClient(limited.url) as people,
        httpx.AsyncClient(base_url=limited.url) as http,
    ):
        api = Api(http)
        chats = [await started(people, f"P{i}") for i in range(4)]

        async def paced(schedule: list[tuple[float, int]]) -> list[int]:
            began = time.monotonic()
            statuses = []
            for at, chat in schedule:
                await asyncio.sleep(max(0.0, began + at - time.monotonic()))
                statuses.append((await api("sendMessage", chat_id=chat, text="tick"))[0])
            return statuses

        assert set(await paced([(k / 10, chats[0]) for k in range(10)])) == {200}
        await asyncio.sleep(1.0)
        assert set(await paced([(k / 20, chats[k % 4]) for k in range(20)])) == {200}
        counters = await people.counters()
        assert counters["429"] == 0
        assert counters["peak_overall_rate"] <= 21


async def test_switching_limits_off_removes_them(limited: SandboxServer) -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    the limits are Telegram's; the sandbox can switch them off. With POST /sandbox/limits
    {"enabled": false} a burst of 30 to one chat all succeed and the counters still report
    the peak per-chat rate; switching them back on restores 429s."""
    async with (
        AsyncSandboxClient(limited.url) as people,
        httpx.AsyncClient(base_url=limited.url) as http,
    ):
        api = Api(http)
        chat = await started(people)
        assert (await people.set_limits(enabled=False))["enabled"] is False
        results = await asyncio.gather(
            *(api("sendMessage", chat_id=chat, text=str(i)) for i in range(30))
        )
        assert {status for status, _ in results} == {200}
        counters = await people.counters()
        assert counters["429"] == 0
        assert counters["peak_chat_rate"] == 30
        assert counters["peak_chat_rate_chat_id"] == chat
        await people.set_limits(enabled=True, chat_burst=1)
        await api.ok("sendMessage", chat_id=chat, text="first after re-enabling")
        assert (await api("sendMessage", chat_id=chat, text="second"))[0] == 429


async def test_group_limit_over_http(limited: SandboxServer) -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    "not [...] more than 20 messages per minute to the same group". Configured to 6 per
    minute with burst 2, the 3rd message waits 10 seconds."""
    async with (
        AsyncSandboxClient(limited.url) as people,
        httpx.AsyncClient(base_url=limited.url) as http,
    ):
        api = Api(http)
        await people.set_limits(group_per_minute=6, group_burst=2)
        member = await people.create_person("Member")
        group = await people.create_group("Plant floor", [member["id"]])
        await api.ok("sendMessage", chat_id=group["id"], text="one")
        await api.ok("sendMessage", chat_id=group["id"], text="two")
        status, body = await api("sendMessage", chat_id=group["id"], text="three")
        assert (status, body["parameters"]) == (429, {"retry_after": 10})


async def test_limits_are_validated(people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
    gives rates per second and per minute; unknown limit names and non-positive rates are
    refused by the person API."""
    with pytest.raises(SandboxError, match="unknown limit"):
        await people.set_limits(per_hour=5)
    with pytest.raises(SandboxError, match="positive"):
        await people.set_limits(chat_rate=0)
