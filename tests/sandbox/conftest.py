"""Fixtures for the sandbox tests: a real server on 127.0.0.1 (port 0) per test.

``server`` runs with flood control off; rate-limit tests build their own server with small
limits.  ``people`` is the async person-API client, ``api`` a raw HTTP helper that posts
form-encoded like python-telegram-bot and returns (status, body) so tests can assert
Telegram's exact descriptions, and ``bot`` a stock ``telegram.Bot`` pointed at the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import telegram

from sandbox.client import AsyncSandboxClient
from sandbox.server import DEFAULT_TOKEN, SandboxServer


def _png(width: int, height: int) -> bytes:
    """A valid RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png(3, 2)


class Api:
    """Raw Bot API calls: form-encoded, non-string values JSON-encoded, like PTB."""

    def __init__(self, client: httpx.AsyncClient, token: str = DEFAULT_TOKEN) -> None:
        self.client = client
        self.token = token

    async def __call__(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        data = {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in params.items()
        }
        response = await self.client.post(f"/bot{self.token}/{method}", data=data)
        return response.status_code, response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self(method, **params)
        assert body["ok"] is False and body["error_code"] == status, body
        return status, body["description"]


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(limits=False) as running:
        yield running


@pytest.fixture
async def people(server: SandboxServer) -> AsyncIterator[AsyncSandboxClient]:
    async with AsyncSandboxClient(server.url) as client:
        yield client


@pytest.fixture
async def api(server: SandboxServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield Api(client)


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[telegram.Bot]:
    stock = telegram.Bot(DEFAULT_TOKEN, base_url=server.api_base, base_file_url=server.file_base)
    async with stock:
        yield stock


async def started(people: AsyncSandboxClient, first_name: str = "Ann", **extra: Any) -> int:
    """Create a person who has pressed Start; returns their id (= private chat id)."""
    person = await people.create_person(first_name, **extra)
    await people.send_command(person["id"], "start")
    return int(person["id"])


@pytest.fixture
def threaded_server() -> Iterator[SandboxServer]:
    """A sandbox on its own thread and loop, for the synchronous client."""
    holder: dict[str, Any] = {}
    ready = threading.Event()

    async def run() -> None:
        stop = asyncio.Event()
        holder["stop"], holder["loop"] = stop, asyncio.get_running_loop()
        async with SandboxServer(limits=False) as running:
            holder["server"] = running
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield holder["server"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
