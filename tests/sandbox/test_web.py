"""The chat page's server side: the page and its files, the live events (SSE and long poll),
stored file bytes and the person's bio. The Bot API itself is covered elsewhere and must not
change because of any of this."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from sandbox.client import AsyncSandboxClient
from sandbox.events import HISTORY, EventHub
from sandbox.server import SandboxServer

from .conftest import PNG, Api, started


@pytest.fixture
async def http(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


class Stream:
    """An open ``/sandbox/events`` stream, read event by event."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self.lines = lines

    async def next(self, timeout: float = 5) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            async for line in self.lines:
                if line.startswith("data: "):
                    return dict(json.loads(line[len("data: ") :]))
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def until(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        while True:
            event = await self.next(timeout)
            if event["type"] == kind:
                return event


@asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, headers: dict[str, str] | None = None, query: str = ""
) -> AsyncIterator[Stream]:
    async with http.stream("GET", f"/sandbox/events{query}", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        yield Stream(response.aiter_lines())


async def test_the_page_and_its_files_are_served(http: httpx.AsyncClient) -> None:
    page = await http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for testid in ("people", "messages", "message-input", "send-button", "upload-input", "toast"):
        assert f'data-testid="{testid}"' in page.text
    script = await http.get("/web/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text and "/sandbox/events/poll" in script.text
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    style = await http.get("/web/style.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    for missing in ("/web/nothing.js", "/web/..%2Fserver.py", "/web/server.py", "/web/.hidden"):
        assert (await http.get(missing)).status_code == 404, missing


async def test_the_page_files_are_package_data() -> None:
    """pyproject's package-data ("*.html", "*.css", "*.js") ships them: they sit in the
    sandbox.web (namespace) package next to the code."""
    from sandbox.page import WEB_DIR

    assert {p.name for p in WEB_DIR.iterdir()} >= {"index.html", "app.js", "style.css"}


async def test_every_change_of_a_chat_is_an_event(
    http: httpx.AsyncClient, people: AsyncSandboxClient, api: Api
) -> None:
    person = await people.create_person("Ann", id=42)
    async with open_stream(http) as stream:
        hello = await stream.next()
        assert hello["type"] == "hello"

        await people.send_command(42, "start")
        event = await stream.until("message")
        assert event == {
            "id": event["id"],
            "type": "message",
            "bot_id": 123456,
            "chat_id": 42,
            "message_id": 1,
            "sender": "person",
            "person_id": person["id"],
        }
        keyboard = {"inline_keyboard": [[{"text": "Done", "callback_data": "d:1"}]]}
        sent = await api.ok("sendMessage", chat_id=42, text="Duty\nline 2", reply_markup=keyboard)
        event = await stream.until("message")
        assert (event["chat_id"], event["message_id"], event["sender"]) == (42, 2, "bot")
        assert event["id"] > hello["id"]

        await api.ok("editMessageText", chat_id=42, message_id=sent["message_id"], text="Done")
        event = await stream.until("edit")
        assert (event["chat_id"], event["message_id"]) == (42, 2)

        await api.ok("sendMessage", chat_id=42, text="Again", reply_markup=keyboard)
        await stream.until("message")
        query_id = await people.tap(42, 3, label="Done")
        await api.ok("answerCallbackQuery", callback_query_id=query_id, text="Recorded <b>")
        event = await stream.until("callback_answer")
        assert event["text"] == "Recorded <b>" and event["show_alert"] is False
        assert (event["chat_id"], event["message_id"], event["person_id"]) == (42, 3, 42)

        await api.ok("deleteMessage", chat_id=42, message_id=3)
        assert (await stream.until("delete"))["message_id"] == 3
        await people.block(42)
        assert (await stream.until("chat"))["blocked"] is True
        await people.create_person("Bob", id=43)
        assert (await stream.until("person"))["person_id"] == 43
        await people.reset()
        assert (await stream.until("reset"))["type"] == "reset"


async def test_a_reconnecting_stream_resumes_after_its_last_event(
    http: httpx.AsyncClient, people: AsyncSandboxClient
) -> None:
    await started(people, "Ann", id=42)
    await people.send_text(42, "one")
    poll = (await http.get("/sandbox/events/poll", params={"timeout": 0})).json()["result"]
    last = poll["last_id"]
    await people.send_text(42, "two")
    await people.send_text(42, "three")
    async with open_stream(http, headers={"Last-Event-ID": str(last)}) as stream:
        assert (await stream.next())["type"] == "hello"
        missed = [await stream.next(), await stream.next()]
        assert [e["id"] for e in missed] == [last + 1, last + 2]
        assert [e["message_id"] for e in missed] == [3, 4]
    async with open_stream(http, query="?since=999999") as stream:
        await stream.next()
        assert (await stream.next())["type"] == "resync"  # the server restarted, say


async def test_long_polling_waits_for_the_next_event(
    http: httpx.AsyncClient, people: AsyncSandboxClient
) -> None:
    await started(people, "Ann", id=42)
    first = (await http.get("/sandbox/events/poll", params={"since": 0, "timeout": 0})).json()
    assert first["ok"] is True
    assert [e["type"] for e in first["result"]["events"]] == ["person", "message"]
    last = first["result"]["last_id"]

    empty = await http.get("/sandbox/events/poll", params={"since": last, "timeout": 0.2})
    assert empty.json()["result"] == {"events": [], "last_id": last}

    waiting = asyncio.create_task(
        http.get("/sandbox/events/poll", params={"since": last, "timeout": 10})
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await people.send_text(42, "hello")
    answer = (await asyncio.wait_for(waiting, 5)).json()["result"]
    assert [(e["type"], e["message_id"]) for e in answer["events"]] == [("message", 2)]
    bad = await http.get("/sandbox/events/poll", params={"since": "x"})
    assert bad.status_code == 400 and bad.json() == {
        "ok": False,
        "description": "since must be a number",
    }


async def test_stored_files_are_served_by_id(
    http: httpx.AsyncClient, people: AsyncSandboxClient
) -> None:
    await started(people, "Ann", id=42)
    posted = await people.send_photo(42, PNG, filename="rail.png", caption="the rail")
    file_id = posted["message"]["photo"][-1]["file_id"]
    photo = await http.get(f"/sandbox/files/{file_id}")
    assert photo.status_code == 200
    assert photo.content == PNG and photo.headers["content-type"] == "image/png"
    transcript = await people.transcript(42)
    assert transcript[-1]["photo"]["file_id"] == file_id
    missing = await http.get("/sandbox/files/nope")
    assert missing.status_code == 404 and missing.json()["ok"] is False


async def test_a_bio_is_the_persons_subtitle_and_getchats_bio(
    people: AsyncSandboxClient, api: Api
) -> None:
    ann = await people.create_person("Ann", id=42, bio="Furnace operator, Furnace team")
    assert ann["bio"] == "Furnace operator, Furnace team"
    plain = await people.create_person("Bob", id=43)
    assert "bio" not in plain
    assert [p.get("bio") for p in await people.people()] == [ann["bio"], None]
    assert (await api.ok("getChat", chat_id=42))["bio"] == "Furnace operator, Furnace team"
    assert "bio" not in await api.ok("getChat", chat_id=43)


async def test_streams_end_when_the_server_stops() -> None:
    async with SandboxServer(limits=False) as server:
        client = httpx.AsyncClient(base_url=server.url, timeout=10)
        lines: list[str] = []

        async def read() -> None:
            async with client.stream("GET", "/sandbox/events") as response:
                async for line in response.aiter_lines():
                    lines.append(line)

        reader = asyncio.create_task(read())
        while not lines:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(reader, 5)  # the stream ended instead of hanging the shutdown
    await client.aclose()
    assert any(line.startswith("data: ") and '"hello"' in line for line in lines)


def test_the_hub_resyncs_a_watcher_that_fell_too_far_behind() -> None:
    hub = EventHub()
    for _ in range(HISTORY + 5):
        hub.publish("message", chat_id=1)
    assert hub.since(hub.last_id) == []
    assert [e["id"] for e in hub.since(hub.last_id - 2)] == [hub.last_id - 1, hub.last_id]
    assert hub.since(1) == [{"id": hub.last_id, "type": "resync"}]
    assert hub.since(hub.last_id + 3) == [{"id": hub.last_id, "type": "resync"}]


async def test_a_subscriber_that_does_not_keep_up_gets_a_resync() -> None:
    hub = EventHub()
    subscription = hub.subscribe()
    for _ in range(subscription.queue.maxsize + 1):
        hub.publish("message", chat_id=1)
    assert await subscription.next(1) == {"id": hub.last_id, "type": "resync"}
    assert await subscription.next(0.01) is None
    hub.close()
    assert await subscription.next(1) is None and hub.closed


async def test_also_the_page_clock_is_set_read_and_checked(http: httpx.AsyncClient) -> None:
    assert (await http.get("/sandbox/clock")).json() == {"ok": True, "result": None}
    body = {"start": "2026-11-24T05:59:00+01:00", "timezone": "Europe/Berlin", "note": "fast"}
    before = time.time()
    answer = (await http.post("/sandbox/clock", json=body)).json()["result"]
    assert answer["start_epoch"] == datetime.fromisoformat(body["start"]).timestamp()
    assert before <= answer["origin"] <= time.time()
    assert answer["speed"] == 1 and answer["note"] == "fast"
    assert (await http.get("/sandbox/clock")).json()["result"] == answer
    for bad, says in [
        ({"start": "05:59"}, "start must be an ISO date and time with an offset"),
        ({"start": "2026-11-24T05:59:00"}, "start must be an ISO date and time with an offset"),
        ({**body, "speed": 0}, "speed must be a number"),
        ({**body, "timezone": "Mars/Base"}, "unknown timezone"),
        ([1], "the body must be a JSON object or null"),
    ]:
        refused = await http.post("/sandbox/clock", json=bad)
        assert refused.status_code == 400 and says in refused.json()["description"]
    assert (await http.post("/sandbox/clock", json=None)).json()["result"] is None
