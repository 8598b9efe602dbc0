"""Faults on demand: 429/500/502 answers, delays, dropped connections, in order.

Telegram does fail this way in production, which is why the Bot API documents retry_after
(https://core.telegram.org/bots/api#responseparameters: "In case of exceeding flood control,
the number of seconds left to wait before the request can be repeated") and why clients
retry 5xx.  Each kind is queued through the person API and observed through both raw HTTP
and a stock python-telegram-bot client.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import telegram
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from sandbox.client import AsyncSandboxClient, SandboxError
from sandbox.server import DEFAULT_TOKEN, SandboxServer

from .conftest import Api, started


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_429(api: Api, people: AsyncSandboxClient, bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#responseparameters: retry_after. A queued 429 answers
    "Too Many Requests: retry after 7" with parameters.retry_after = 7; PTB raises
    RetryAfter."""
    await people.add_fault("error", method="getMe", status=429, retry_after=7, count=2)
    assert await api("getMe") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
        await bot.get_me()
    assert (await api.ok("getMe"))["id"] == 123456


async def test_fault_500(api: Api, people: AsyncSandboxClient, bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#making-requests: "If 'ok' equals False, the error is
    explained in the 'description'." A queued 500 answers "Internal Server Error" and has no
    effect; PTB raises NetworkError."""
    chat = await started(people)
    await people.add_fault("error", method="sendMessage", status=500)
    assert await api.error("sendMessage", chat_id=chat, text="lost") == (
        500,
        "Internal Server Error",
    )
    await people.add_fault("error", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(chat, "lost too")
    assert [e["text"] for e in await people.transcript(chat)] == ["/start"]


async def test_fault_502(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#making-requests: "If 'ok' equals False, the error is
    explained in the 'description'." A queued 502 answers "Bad Gateway" (the status
    Telegram's front end gives while the Bot API is unavailable)."""
    await people.add_fault("error", status=502)
    assert await api.error("getMe") == (502, "Bad Gateway")


async def test_fault_delay_provokes_client_timeout(
    server: SandboxServer, people: AsyncSandboxClient
) -> None:
    """https://docs.python-telegram-bot.org/en/stable/telegram.error.html#telegram.error.TimedOut:
    "Raised when a request took too long to finish." A delayed call is answered normally after
    the delay: a client with a shorter read timeout gives up, a patient one gets the
    result."""
    await people.add_fault("delay", method="getMe", seconds=0.6, count=2)
    impatient = telegram.Bot(
        DEFAULT_TOKEN, base_url=server.api_base, request=HTTPXRequest(read_timeout=0.2)
    )
    with pytest.raises(TimedOut):
        await impatient.get_me()
    async with httpx.AsyncClient(base_url=server.url) as http:
        began = time.monotonic()
        response = await http.get(f"/bot{DEFAULT_TOKEN}/getMe")
        assert response.status_code == 200
        assert time.monotonic() - began >= 0.55


async def test_fault_drop_closes_the_connection(
    server: SandboxServer, people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    """https://docs.python-telegram-bot.org/en/stable/telegram.error.html#telegram.error.NetworkError:
    "Base class for exceptions due to networking errors." A dropped call gets no response at
    all: httpx reports the server disconnected, PTB raises NetworkError; the call log shows
    status 0."""
    await people.add_fault("drop", method="getMe", count=2)
    async with httpx.AsyncClient(base_url=server.url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"/bot{DEFAULT_TOKEN}/getMe")
    with pytest.raises(NetworkError):
        await bot.get_me()
    calls = await people.calls("getMe")
    assert [call["status"] for call in calls][-2:] == [0, 0]


async def test_faults_are_consumed_in_order(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#making-requests: "All methods in the Bot API are
    case-insensitive." Each call takes one use from the first matching fault (methods matched
    case-insensitively); a fault disappears when used up; clear_faults removes the rest."""
    await people.add_fault("error", method="getChat", status=502)
    await people.add_fault("error", status=500, count=2)
    await people.add_fault("error", status=429, retry_after=3)
    assert (await api("getMe"))[0] == 500
    assert (await api("getChat", chat_id=1))[0] == 502
    assert (await api("getChat", chat_id=1))[0] == 500
    assert [f["status"] for f in await people.faults()] == [429]
    await people.clear_faults()
    assert await people.faults() == []
    assert (await api("getMe"))[0] == 200


async def test_bad_fault_specs_are_refused(people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#responseparameters: retry_after is "the number of
    seconds left to wait". Only 429/500/502 errors, positive delays and positive counts are
    accepted."""
    with pytest.raises(SandboxError, match="status must be one of"):
        await people.add_fault("error", status=418)
    with pytest.raises(SandboxError, match="seconds"):
        await people.add_fault("delay", seconds=-1)
    with pytest.raises(SandboxError, match="kind"):
        await people.add_fault("explode")


async def test_timed_outage(api: Api, people: AsyncSandboxClient) -> None:
    """A fault with ``duration`` hits every matching call until it ends, whatever the count:
    a Telegram outage of minutes, not a single failed call."""
    fault = await people.add_fault("error", method="getMe", status=502, duration=3.0)
    assert fault["remaining_seconds"] > 0
    for _ in range(5):
        assert await api.error("getMe") == (502, "Bad Gateway")
    deadline = time.monotonic() + 5
    while await people.faults() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await people.faults() == []
    assert (await api.ok("getMe"))["id"] == 123456


async def test_timed_outage_bounds(people: AsyncSandboxClient) -> None:
    for duration in (0, -1, 10**9, "x"):
        with pytest.raises(SandboxError, match="duration"):
            await people.add_fault("drop", duration=duration)  # type: ignore[arg-type]


async def test_latency(api: Api, people: AsyncSandboxClient) -> None:
    """Each Bot API call waits a random time in the latency range, as Telegram's 100-300 ms."""
    assert await people.set_latency(0.1, 0.2) == {"min": 0.1, "max": 0.2}
    started_at = time.monotonic()
    for _ in range(3):
        await api.ok("getMe")
    elapsed = time.monotonic() - started_at
    assert 0.3 <= elapsed < 2.0
    for low, high in ((-1, 0), (0.3, 0.1), (0, 100)):
        with pytest.raises(SandboxError, match="latency"):
            await people.set_latency(low, high)
    await people.set_latency(0, 0)
    started_at = time.monotonic()
    await api.ok("getMe")
    assert time.monotonic() - started_at < 0.1


async def test_a_fault_for_one_chat_leaves_the_others_alone(
    api: Api, people: AsyncSandboxClient
) -> None:
    """A fault given ``chat_id`` hits only calls to that chat: one person's chat can be down
    (an outage seen from one leader) while the others get their messages."""
    down = await started(people, "down")
    fine = await started(people, "fine")
    fault = await people.add_fault("error", status=502, duration=60, chat_id=down)
    assert fault["chat_id"] == down
    assert await api.error("sendMessage", chat_id=down, text="lost") == (502, "Bad Gateway")
    await api.ok("sendMessage", chat_id=fine, text="arrives")
    assert await api.error("sendMessage", chat_id=down, text="lost too") == (502, "Bad Gateway")
    assert [e["text"] for e in await people.transcript(fine)][-1] == "arrives"
    assert [e["text"] for e in await people.transcript(down)] == ["/start"]
    with pytest.raises(SandboxError):
        await people.add_fault("error", status=502, chat_id="down")  # type: ignore[arg-type]
