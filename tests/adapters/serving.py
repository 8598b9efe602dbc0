"""The webhook and operations server (``bot.ops.web_application``) on a free port of 127.0.0.1
in the test's event loop, and a real HTTP client for it: what Telegram, a load balancer or
Prometheus would send."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import telegram
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import config, ops
from bot.delivery.sender import Sender
from bot.delivery.webhook import SECRET_HEADER, Receiver
from bot.runtime import Runtime
from models.tables import InboxUpdate
from sandbox.server import DEFAULT_TOKEN

SECRET = "s3cret-Token_for-tests"
NOWHERE = "http://127.0.0.1:9/bot"  # nothing listens on port 9: a Bot API that never answers


def settings_for(db_url: str, api_base: str = NOWHERE, **extra: Any) -> config.Settings:
    raw: dict[str, Any] = {
        "telegram": {
            "mode": "webhook",
            "api_base_url": api_base,
            "webhook": {"url_path": "hook", "public_url": "http://127.0.0.1:9/hook"},
        },
        "database": {"url": db_url},
    }
    raw.update(extra)
    return config.parse(raw, source="webhook test config")


def inbox_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(InboxUpdate)).scalar_one())


def message_update(update_id: int, chat: int = 4242, text: str = "done 1") -> dict[str, Any]:
    person = {"id": chat, "is_bot": False, "first_name": "Walt"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Walt"},
            "from": person,
            "text": text,
        },
    }


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT
    http: aiohttp.ClientSession
    stored: list[int]  # one entry per on_stored call
    server: ops.Server

    async def post(
        self, body: bytes | str, *, secret: str | None = SECRET, path: str = "/hook"
    ) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = body.encode() if isinstance(body, str) else body
        async with self.http.post(self.url + path, data=data, headers=headers) as response:
            return response.status, await response.text()

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url + path) as response:
            return response.status, await response.text()


@asynccontextmanager
async def served(
    settings: config.Settings,
    engine: Engine,
    *,
    webhook: bool = True,
    sender: Sender | None = None,
    on_stored: Callable[[], None] | None = None,
) -> AsyncIterator[Served]:
    """The server of ``settings``' mode on a free port: the webhook route (with ``SECRET``)
    and the operations routes, or the operations routes alone."""
    rt = Runtime(settings, engine)
    api = settings.telegram.api_base_url
    bot = _idle_bot() if api == NOWHERE else telegram.Bot(DEFAULT_TOKEN, base_url=api)
    stored: list[int] = []

    def record() -> None:
        stored.append(1)
        if on_stored is not None:
            on_stored()

    receiver = Receiver(rt, SECRET, record) if webhook else None
    server = await ops.start(ops.web_application(rt, bot, sender, receiver), "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(f"http://127.0.0.1:{server.port}", http, stored, server)
    finally:
        await server.stop()
        if api != NOWHERE:
            await bot.shutdown()


_idle: list[telegram.Bot] = []


def _idle_bot() -> telegram.Bot:
    """A bot for a Bot API that is never called: made once (a Bot costs half a second of
    TLS set-up), never connected, so no event loop holds it."""
    if not _idle:
        _idle.append(telegram.Bot(DEFAULT_TOKEN, base_url=NOWHERE))
    return _idle[0]
