"""/healthz, /readyz and /metrics over real HTTP (bot.ops), with the sandbox as the Bot API:
ready only when the database answers, its schema is current and getMe answered; the metrics
read the inbox and outbox at scrape time."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import config, ops
from bot.app import build_application
from bot.delivery.sender import Sender
from bot.runtime import utc_now
from bot.store.engine import make_engine
from models.tables import InboxUpdate, Outbox
from sandbox.client import AsyncSandboxClient
from sandbox.server import DEFAULT_TOKEN, SandboxServer
from tests.adapters.serving import message_update, served, settings_for
from tests.e2e.harness import free_port


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, labels) -> value of a Prometheus text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


async def test_healthz_answers_while_nothing_else_does() -> None:
    url = "postgresql+psycopg://execbot@127.0.0.1:9/none"
    engine = make_engine(url)
    try:
        async with served(settings_for(url), engine) as s:
            assert await s.get("/healthz") == (200, "ok")
    finally:
        engine.dispose()


async def test_readyz_is_ready_when_database_schema_and_bot_api_answer(engine: Engine) -> None:
    async with SandboxServer(limits=False) as server:
        people = AsyncSandboxClient(server.url)
        try:
            async with served(settings_for(url_of(engine), server.api_base), engine) as s:
                for _ in range(3):
                    status, body = await s.get("/readyz")
                    assert status == 200, body
                    assert json.loads(body) == {
                        "ready": True,
                        "checks": {"database": "ok", "schema": "ok", "bot_api": "ok"},
                    }
            # getMe answers are reused for a few seconds: a load balancer polling /readyz
            # costs one getMe per BOT_API_EVERY, not one per poll
            assert len(await people.calls("getMe")) == 1
        finally:
            await people.close()


async def test_readyz_503_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://execbot@127.0.0.1:9/none"
    engine = make_engine(url)
    try:
        async with (
            SandboxServer(limits=False) as server,
            served(settings_for(url, server.api_base), engine) as s,
        ):
            status, body = await s.get("/readyz")
        assert status == 503
        checks = json.loads(body)["checks"]
        assert checks["database"] != "ok" and "9" in checks["database"], checks
        assert checks["schema"] == "unknown"
        assert checks["bot_api"] == "ok"
    finally:
        engine.dispose()


async def test_readyz_503_when_the_schema_is_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"  # never migrated
    engine = make_engine(url)
    try:
        async with (
            SandboxServer(limits=False) as server,
            served(settings_for(url, server.api_base), engine) as s,
        ):
            status, body = await s.get("/readyz")
        assert status == 503
        checks = json.loads(body)["checks"]
        assert checks["database"] == "ok"
        assert checks["schema"].startswith("at none, this execbot needs "), checks
    finally:
        engine.dispose()


async def test_readyz_503_when_the_bot_api_does_not_answer(engine: Engine) -> None:
    unreachable = "http://127.0.0.1:1/bot"
    async with served(settings_for(url_of(engine), unreachable), engine) as s:
        status, body = await s.get("/readyz")
    assert status == 503
    checks = json.loads(body)["checks"]
    assert (checks["database"], checks["schema"]) == ("ok", "ok")
    assert checks["bot_api"].startswith("getMe failed"), checks
    assert DEFAULT_TOKEN not in body


async def test_metrics_show_queue_depths_ages_and_sender_counts(engine: Engine) -> None:
    # a sender whose counters say what this process sent (it never runs here)
    sender = Sender(engine, cast(Any, None), clock=utc_now)
    sender.stats.sent, sender.stats.given_up = 4, 2
    now = utc_now()
    with Session(engine) as session:
        session.add(
            Outbox(
                created_at=now - timedelta(seconds=90), next_attempt_at=now, chat_id=1, kind="nudge"
            )
        )
        session.add(
            Outbox(created_at=now, next_attempt_at=now, chat_id=2, kind="nudge", state="dead")
        )
        session.commit()
    async with served(settings_for(url_of(engine)), engine, sender=sender) as s:
        for update_id in (11, 12, 13):
            assert (await s.post(json.dumps(message_update(update_id, chat=update_id))))[0] == 200
        with Session(engine) as session:  # the first arrived two minutes ago
            session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id == 11)  # type: ignore[arg-type]
                .values(received_at=now - timedelta(seconds=120))
            )
            session.commit()
        status, body = await s.get("/metrics")
    assert status == 200
    got = samples(body)
    assert got[("execbot_database_up", ())] == 1
    assert got[("execbot_inbox_updates", (("state", "pending"),))] == 3
    assert got[("execbot_inbox_updates", (("state", "dead"),))] == 0
    assert 120 <= got[("execbot_inbox_oldest_unhandled_age_seconds", ())] < 600
    assert got[("execbot_inbox_dead_updates", ())] == 0
    assert got[("execbot_outbox_messages", (("state", "pending"),))] == 1
    assert got[("execbot_outbox_messages", (("state", "dead"),))] == 1
    assert 90 <= got[("execbot_outbox_oldest_pending_age_seconds", ())] < 600
    assert got[("execbot_outbox_dead_messages", ())] == 1
    assert got[("execbot_sender_messages_total", (("outcome", "sent"),))] == 4
    assert got[("execbot_sender_messages_total", (("outcome", "given_up"),))] == 2
    assert ("execbot_rate_limited_total", ()) in got  # bot.metrics: the sender counts 429s
    assert got[("execbot_updates_received_total", (("mode", "webhook"),))] >= 3
    for name in ("execbot_update_handling_seconds", "execbot_pass_seconds"):
        assert any(key[0].startswith(name) for key in got) or name in body


async def test_metrics_say_when_the_database_is_down() -> None:
    url = "postgresql+psycopg://execbot@127.0.0.1:9/none"
    engine = make_engine(url)
    try:
        async with served(settings_for(url), engine) as s:
            status, body = await s.get("/metrics")
        assert status == 200
        got = samples(body)
        assert got[("execbot_database_up", ())] == 0
        assert not any(key[0].startswith("execbot_inbox_") for key in got)
    finally:
        engine.dispose()


async def test_polling_mode_serves_the_operations_routes_on_the_server_port(
    tmp_path: Path, template_db: Path
) -> None:
    """[server] port in polling mode: /healthz and /metrics, no webhook route; the port is
    closed again when the block ends."""
    shutil.copyfile(template_db, tmp_path / "execbot.db")
    port = free_port()
    settings = config.parse(
        {
            "telegram": {"api_base_url": "http://127.0.0.1:9/bot"},
            "server": {"port": port},
            "database": {"url": f"sqlite:///{tmp_path / 'execbot.db'}"},
        },
        source="polling test config",
    )
    engine = make_engine(settings.database.url)
    from bot.runtime import Runtime

    app = build_application(Runtime(settings, engine), DEFAULT_TOKEN)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with ops.serving(app) as server:
                assert server is not None and server.port == port
                async with http.get(base + "/healthz") as response:
                    assert response.status == 200
                async with http.get(base + "/metrics") as response:
                    assert "execbot_inbox_updates" in await response.text()
                async with http.post(base + "/telegram", data=b"{}") as response:
                    assert response.status == 404  # no webhook in polling mode
            with pytest.raises(aiohttp.ClientConnectionError):
                async with http.get(base + "/healthz"):
                    pass
    finally:
        await app.bot.shutdown()
        engine.dispose()
