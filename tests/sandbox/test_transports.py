"""Parameters arrive the four ways Telegram accepts, and results are full Message objects.

https://core.telegram.org/bots/api#making-requests: "We support GET and POST HTTP methods.
We support four ways of passing parameters in Bot API requests: URL query string,
application/x-www-form-urlencoded, application/json (except for uploading files),
multipart/form-data (use to upload files)."
"""

from __future__ import annotations

import json

import httpx

from sandbox.client import AsyncSandboxClient
from sandbox.server import DEFAULT_TOKEN, SandboxServer

from .conftest import PNG, started

KEYBOARD = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}


async def test_query_string_get(server: SandboxServer, people: AsyncSandboxClient) -> None:
    """URL query string with GET."""
    chat = await started(people)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(
            f"/bot{DEFAULT_TOKEN}/sendMessage",
            params={"chat_id": chat, "text": "via GET", "reply_markup": json.dumps(KEYBOARD)},
        )
    result = response.json()["result"]
    assert (result["text"], result["reply_markup"]) == ("via GET", KEYBOARD)


async def test_json_body_with_native_types(
    server: SandboxServer, people: AsyncSandboxClient
) -> None:
    """application/json: numbers, booleans and objects keep their JSON types."""
    chat = await started(people)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            f"/bot{DEFAULT_TOKEN}/sendMessage",
            json={
                "chat_id": chat,
                "text": "via JSON",
                "reply_markup": KEYBOARD,
                "disable_notification": True,
                "entities": [{"type": "bold", "offset": 4, "length": 4}],
            },
        )
        result = response.json()["result"]
        assert result["reply_markup"] == KEYBOARD
        assert result["entities"] == [{"type": "bold", "offset": 4, "length": 4}]
        broken = await http.post(
            f"/bot{DEFAULT_TOKEN}/getMe",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert broken.status_code == 400


async def test_form_with_json_encoded_objects(
    server: SandboxServer, people: AsyncSandboxClient
) -> None:
    """application/x-www-form-urlencoded, objects JSON-encoded inside fields (what
    python-telegram-bot sends)."""
    chat = await started(people)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            f"/bot{DEFAULT_TOKEN}/sendMessage",
            data={"chat_id": str(chat), "text": "via form", "reply_markup": json.dumps(KEYBOARD)},
        )
    message = response.json()["result"]
    assert message["reply_markup"] == KEYBOARD
    assert set(message) == {"message_id", "from", "chat", "date", "text", "reply_markup"}
    assert message["chat"] == {"id": chat, "type": "private", "first_name": "Ann"}
    assert message["from"] == {
        "id": 123456,
        "is_bot": True,
        "first_name": "Execbot Sandbox",
        "username": "execbot_sandbox_bot",
    }


async def test_multipart_with_attach_reference(
    server: SandboxServer, people: AsyncSandboxClient
) -> None:
    """multipart/form-data: text fields, a file part, and photo=attach://<name> pointing at
    another part ("attach://<file_attach_name>", https://core.telegram.org/bots/api#sending-files)."""
    chat = await started(people)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            f"/bot{DEFAULT_TOKEN}/sendPhoto",
            data={
                "chat_id": str(chat),
                "photo": "attach://pic",
                "reply_markup": json.dumps(KEYBOARD),
            },
            files={"pic": ("gauge.png", PNG, "image/png")},
        )
    message = response.json()["result"]
    assert message["photo"][0]["width"] == 3 and message["reply_markup"] == KEYBOARD
    logged = (await people.calls("sendPhoto"))[0]["params"]
    assert logged["pic"] == {"upload": "gauge.png", "size": len(PNG)}
