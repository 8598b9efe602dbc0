"""Webhook delivery in parallel, each chat in order, with retries; waves from many people.

https://core.telegram.org/bots/api#setwebhook: "max_connections: The maximum allowed number of
simultaneous HTTPS connections to the webhook for update delivery, 1-100. Defaults to 40."
and "In case of an unsuccessful request (a request with response HTTP status code different
from 2XY), we will repeat the request and give up after a reasonable amount of attempts."
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import telegram
from aiohttp import web

from sandbox.chats import send_message
from sandbox.client import AsyncSandboxClient
from sandbox.server import SandboxServer

from .conftest import Api, started
from .test_strict import inline


@dataclass
class Receiver:
    """A webhook receiver that records updates and how many requests it held at once."""

    url: str = ""
    delay: Callable[[], float] = lambda: 0.0
    fail: Callable[[dict[str, Any]], bool] = lambda update: False
    received: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    open: int = 0
    peak: int = 0
    open_chats: set[int] = field(default_factory=set)
    chat_overlap: bool = False

    async def hook(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.received.append(update)
        chat = next(v for k, v in update.items() if k != "update_id")
        chat_id = (chat.get("chat") or chat["message"]["chat"])["id"]
        if chat_id in self.open_chats:
            self.chat_overlap = True
        self.open_chats.add(chat_id)
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            await asyncio.sleep(self.delay())
            if self.fail(update):
                return web.Response(status=500)
            self.accepted.append(update)
            return web.Response(text="ok")
        finally:
            self.open -= 1
            self.open_chats.discard(chat_id)

    async def settle(self, count: int, timeout: float = 30.0) -> None:
        for _ in range(int(timeout / 0.05)):
            if len(self.accepted) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(self.accepted)} of {count} updates accepted")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorder = Receiver()
    app = web.Application()
    app.router.add_post("/hook", recorder.hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield recorder
    finally:
        await runner.cleanup()


async def _people(people: AsyncSandboxClient, count: int) -> list[int]:
    made = await people.create_people([{"first_name": f"P{i}"} for i in range(count)], started=True)
    return [int(person["id"]) for person in made]


def _texts(updates: list[dict[str, Any]], chat: int) -> list[str]:
    return [u["message"]["text"] for u in updates if u["message"]["chat"]["id"] == chat]


async def test_updates_go_out_in_parallel_up_to_max_connections(
    bot: telegram.Bot, people: AsyncSandboxClient, receiver: Receiver
) -> None:
    receiver.delay = lambda: 0.3
    chats = await _people(people, 12)
    await bot.set_webhook(receiver.url, max_connections=4)
    await people.send_texts(chats, "hello")
    await receiver.settle(12)
    assert receiver.peak == 4
    assert (await bot.get_webhook_info()).max_connections == 4
    counters = await people.counters()
    assert (counters["webhook_deliveries"], counters["webhook_confirmed"]) == (12, 12)
    assert counters["webhook_failures"] == 0


async def test_default_is_forty_connections(
    bot: telegram.Bot, people: AsyncSandboxClient, receiver: Receiver
) -> None:
    receiver.delay = lambda: 0.5
    chats = await _people(people, 60)
    await bot.set_webhook(receiver.url)
    await people.send_texts(chats, "hello")
    await receiver.settle(60)
    assert receiver.peak == 40
    assert (await bot.get_webhook_info()).max_connections == 40


async def test_each_chat_keeps_its_order(
    bot: telegram.Bot, people: AsyncSandboxClient, receiver: Receiver
) -> None:
    receiver.delay = lambda: random.uniform(0.0, 0.03)
    chats = await _people(people, 5)
    await bot.set_webhook(receiver.url)
    for round_ in range(8):
        await people.send_texts(chats, f"m{round_}")
    await receiver.settle(40)
    assert not receiver.chat_overlap
    for chat in chats:
        assert _texts(receiver.accepted, chat) == [f"m{i}" for i in range(8)]
    assert receiver.peak > 1


async def test_failed_deliveries_are_retried_in_order(
    bot: telegram.Bot, people: AsyncSandboxClient, receiver: Receiver
) -> None:
    failed: set[int] = set()

    def fail_first_try_of_m0(update: dict[str, Any]) -> bool:
        if update["message"]["text"] == "m0" and update["update_id"] not in failed:
            failed.add(update["update_id"])
            return True
        return False

    receiver.fail = fail_first_try_of_m0
    chats = await _people(people, 3)
    await bot.set_webhook(receiver.url)
    for round_ in range(3):
        await people.send_texts(chats, f"m{round_}")
    await receiver.settle(9)
    for chat in chats:
        assert _texts(receiver.received, chat)[:2] == ["m0", "m0"]  # m1 waited for m0
        assert _texts(receiver.accepted, chat) == ["m0", "m1", "m2"]
    counters = await people.counters()
    assert counters["webhook_failures"] == 3
    assert counters["webhook_confirmed"] == 9
    assert counters["webhook_deliveries"] == 12
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.pending_update_count == 0


async def test_a_receiver_that_is_down_is_retried_not_flooded(
    bot: telegram.Bot, people: AsyncSandboxClient
) -> None:
    chats = await _people(people, 50)
    await bot.set_webhook("http://127.0.0.1:9/nowhere")
    await people.send_texts(chats, "hello")
    await asyncio.sleep(1.0)
    counters = await people.counters()
    # 0.2 + 0.4 s of pauses in the first second: a few rounds of 40, not one per update
    assert counters["webhook_failures"] <= 3 * 40
    assert counters["webhook_confirmed"] == 0
    assert (await bot.get_webhook_info()).pending_update_count == 50


async def test_a_wave_of_three_thousand_people_taps_and_is_delivered_once(
    api: Api, people: AsyncSandboxClient, receiver: Receiver, server: SandboxServer
) -> None:
    """3,000 people get a message with buttons, all tap in one request, and every
    callback query reaches the webhook once, in parallel."""
    count = 3000
    chats = await _people(people, count)
    box = server.sandbox
    keyboard = json.dumps(inline(("Yes", "y")))
    for chat in chats:  # in-process: the set-up is not what is tested
        send_message(box, box.bot(), {"chat_id": chat, "text": "Done?", "reply_markup": keyboard})
    await api.ok("setWebhook", url=receiver.url)
    stranger = await started(people, "Stranger")  # no keyboard: skipped, not an error
    result = await people.tap_latest([*chats, stranger])
    assert len(result["tapped"]) == count
    assert [s["person_id"] for s in result["skipped"]] == [stranger]
    await receiver.settle(count + 1, timeout=120)  # + the stranger's /start
    queries = [u["callback_query"] for u in receiver.accepted if "callback_query" in u]
    assert sorted(q["from"]["id"] for q in queries) == sorted(chats)
    assert {q["data"] for q in queries} == {"y"}
    assert len({q["id"] for q in queries}) == count
    counters = await people.counters()
    assert counters["callback_queries"] == count
    assert counters["webhook_confirmed"] == count + 1


async def test_many_messages_skip_who_blocked_the_bot(people: AsyncSandboxClient) -> None:
    ann, bob = await _people(people, 2)
    await people.block(bob)
    result = await people.send_texts([ann, bob], "hi")
    assert [s["person_id"] for s in result["sent"]] == [ann]
    assert [s["person_id"] for s in result["skipped"]] == [bob]
