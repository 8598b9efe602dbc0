"""Webhook mode's life cycle (bot.delivery.webhook.serve_webhook) against the sandbox: it
starts the server, initialises the bot, calls setWebhook with the secret; the sandbox's
deliveries end up in the inbox, confirmed only once stored (a failing database leaves the
update with Telegram, which delivers it again); stopping closes the port first."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot import config
from bot.app import ALLOWED_UPDATES, StartupError, build_application, run
from bot.delivery.webhook import serve_webhook
from bot.runtime import Runtime
from bot.store.engine import make_engine
from models.tables import InboxUpdate
from sandbox.server import DEFAULT_TOKEN
from tests.adapters.harness import Harness, harness
from tests.adapters.org import CONFIG, START
from tests.adapters.serving import SECRET
from tests.e2e.harness import free_port

WALT = 4242


def stored(h: Harness) -> list[InboxUpdate]:
    with Session(h.engine) as session:
        return list(session.exec(select(InboxUpdate).order_by(InboxUpdate.update_id)).all())  # type: ignore[arg-type]


async def test_webhook_mode_sets_the_webhook_and_stores_what_is_delivered(
    tmp_path: Path, template_db: Path
) -> None:
    port = free_port()
    extra = (
        CONFIG + '\n[telegram]\nmode = "webhook"\n[telegram.webhook]\nurl_path = "hook"\n'
        f'public_url = "http://127.0.0.1:{port}/hook"\nmax_connections = 7\n'
    )
    async with harness(tmp_path, template_db, START, config_extra=extra) as h:
        app = build_application(h.runtime, DEFAULT_TOKEN)
        assert app.job_queue is not None
        app.job_queue.scheduler.remove_all_jobs()
        woken: list[int] = []
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve_webhook(
                app,
                SECRET,
                ALLOWED_UPDATES,
                stop=stop,
                on_stored=lambda: woken.append(1),
                address=("127.0.0.1", port),
            )
        )
        try:
            calls = await h.until("setWebhook", lambda: h.people.calls("setWebhook"))
            assert calls[0]["status"] == 200
            params = calls[0]["params"]
            assert params["url"] == f"http://127.0.0.1:{port}/hook"
            assert params["secret_token"] == SECRET
            assert int(params["max_connections"]) == 7
            assert set(_allowed(params["allowed_updates"])) == set(ALLOWED_UPDATES)
            await h.wait("the application to start", lambda: app.running)

            await h.people.create_person("Walt", id=WALT)
            await h.people.send_command(WALT, "start")
            await h.people.send_text(WALT, "hello")
            await h.wait("two updates stored", lambda: len(stored(h)) == 2)
            rows = stored(h)
            assert [r.payload["message"]["text"] for r in rows] == ["/start", "hello"]
            assert {r.chat_key for r in rows} == {WALT}
            await h.wait("both confirmed", lambda: not h.pending_updates())
            assert woken == [1, 1]

            # the database refuses: the update stays with Telegram, which tries again
            with h.engine.begin() as conn:
                conn.execute(
                    text(
                        "CREATE TRIGGER refuse BEFORE INSERT ON inbox "
                        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
                    )
                )
            await h.people.send_text(WALT, "while the disk burns")
            hook = h.server.sandbox.bot().webhook
            assert hook is not None
            await h.wait("a failed delivery", lambda: "500" in hook.last_error_message)
            assert len(stored(h)) == 2 and len(h.pending_updates()) == 1
            with h.engine.begin() as conn:
                conn.execute(text("DROP TRIGGER refuse"))
            await h.wait("the retried delivery stored", lambda: len(stored(h)) == 3)
            await h.wait("and confirmed", lambda: not h.pending_updates())
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
        assert not app.running
        async with aiohttp.ClientSession() as http:  # the port is closed
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(f"http://127.0.0.1:{port}/healthz"):
                    raise AssertionError("still serving after the stop")


def _allowed(value: Any) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value)


def test_a_taken_port_stops_start_up_with_one_line(
    tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(template_db, tmp_path / "execbot.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = config.parse(
            {
                "telegram": {
                    "mode": "webhook",
                    "api_base_url": "http://127.0.0.1:9/bot",
                    "webhook": {"port": port, "public_url": "https://bot.example.org/hook"},
                },
                "database": {"url": f"sqlite:///{tmp_path / 'execbot.db'}"},
            },
            source="test",
        )
        monkeypatch.setenv("EXECBOT_WEBHOOK_SECRET", SECRET)
        engine = make_engine(settings.database.url)
        try:
            with pytest.raises(StartupError, match=f"^cannot listen on 127.0.0.1:{port}: "):
                run(Runtime(settings, engine), DEFAULT_TOKEN)
        finally:
            engine.dispose()
