"""Two pollers on one token, as Telegram treats them.

https://core.telegram.org/bots/api#getupdates ("long polling"); the real server
(tdlib/telegram-bot-api, ``Client::do_get_updates``) ends a waiting long poll when another
getUpdates arrives, with 409 "Conflict: terminated by other getUpdates request; make sure
that only one bot instance is running". The sandbox counts those (``polling_conflicts``)
so a test of a standby instance can show that only one instance polled."""

from __future__ import annotations

import asyncio

from sandbox.client import AsyncSandboxClient

from .conftest import Api

TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


async def test_a_second_get_updates_ends_the_waiting_long_poll(
    api: Api, people: AsyncSandboxClient
) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    assert await api.ok("getUpdates", timeout=0) == []  # a short poll is enough
    status, body = await asyncio.wait_for(first, 2)
    assert (status, body) == (409, {"ok": False, "error_code": 409, "description": TERMINATED})
    counters = await people.counters()
    assert counters["polling_conflicts"] == 1
    assert counters["statuses"]["409"] == 1


async def test_a_second_long_poll_ends_the_first_and_gets_the_update(
    api: Api, people: AsyncSandboxClient
) -> None:
    person = await people.create_person("Ann")
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(api.ok("getUpdates", timeout=5))
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409 and body["description"] == TERMINATED
    await people.send_command(person["id"], "start")
    updates = await asyncio.wait_for(second, 2)
    assert [u["message"]["text"] for u in updates] == ["/start"]
    assert (await people.counters())["polling_conflicts"] == 1


async def test_one_poller_polling_in_turn_has_no_conflict(
    api: Api, people: AsyncSandboxClient
) -> None:
    person = await people.create_person("Ann")
    waiting = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    await people.send_command(person["id"], "start")
    updates = await asyncio.wait_for(waiting, 2)
    offset = updates[-1]["update_id"] + 1
    assert await api.ok("getUpdates", offset=offset, timeout=1) == []
    assert (await people.counters())["polling_conflicts"] == 0
