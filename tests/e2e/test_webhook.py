"""`execbot run` in webhook mode as a process, with the sandbox delivering webhooks: it calls
setWebhook with the secret, the sandbox's deliveries end up in the inbox, forged requests are
refused, /healthz, /readyz and /metrics answer on the same port (taken from
EXECBOT_SERVER_PORT, as a systemd template unit gives it), the secret never reaches the log,
and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlmodel import Session, func, select

from models.tables import InboxUpdate
from tests.e2e.harness import World, free_port, world

SECRET = "e2e-webhook-Secret_0123456789"
WALT = 4242


def webhook_config(w: World) -> None:
    path = w.write_config(
        "[telegram.webhook]\n"
        'url_path = "tg/hook"\n'
        "port = 1\n"  # overridden by EXECBOT_SERVER_PORT
        'public_url = "{public}"\n'
    )
    path.write_text(path.read_text().replace("[telegram]\n", '[telegram]\nmode = "webhook"\n', 1))


def inbox(w: World) -> list[InboxUpdate]:
    with Session(w.engine) as session:
        return list(session.exec(select(InboxUpdate).order_by(InboxUpdate.update_id)).all())  # type: ignore[arg-type]


def count(w: World) -> int:
    with Session(w.engine) as session:
        return int(session.exec(select(func.count()).select_from(InboxUpdate)).one())


def request(url: str, body: bytes | None = None, secret: str | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _ready_body(url: str) -> str | None:
    status, body = request(url)
    return body if status == 200 else None


def test_webhook_mode_stores_what_the_sandbox_delivers(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with world(tmp_path) as w:
        webhook_config(w)
        config = w.root / "config.toml"
        config.write_text(config.read_text().replace("{public}", f"{base}/tg/hook"))
        w.execbot("db", "upgrade")
        bot = w.start_bot(EXECBOT_WEBHOOK_SECRET=SECRET, EXECBOT_SERVER_PORT=str(port))
        calls = w.wait(
            "setWebhook",
            lambda: [c for c in w.client.calls("setWebhook") if c["status"] == 200],
        )
        params = calls[0]["params"]
        assert params["url"] == f"{base}/tg/hook"
        assert params["secret_token"] == SECRET
        assert int(params["max_connections"]) == 40

        w.client.create_person("Walt", id=WALT)
        w.client.send_command(WALT, "start")
        w.client.send_text(WALT, "done 1")
        w.wait("both updates stored", lambda: len(inbox(w)) == 2)
        rows = inbox(w)
        assert [r.payload["message"]["text"] for r in rows] == ["/start", "done 1"]
        assert [r.chat_key for r in rows] == [WALT, WALT]

        # forged requests: refused, nothing stored
        forged = json.dumps({"update_id": 99, "message": {"text": "/overdue"}}).encode()
        assert request(f"{base}/tg/hook", forged)[0] == 401
        assert request(f"{base}/tg/hook", forged, "wrong-secret")[0] == 401
        assert request(f"{base}/tg/hook", b"{not json", SECRET)[0] == 400
        assert request(f"{base}/tg/hook", b"x" * (1024 * 1024 + 1), SECRET)[0] == 413
        assert count(w) == 2

        assert request(f"{base}/healthz") == (200, "ok")
        body = w.wait("ready", lambda: _ready_body(f"{base}/readyz"))
        assert json.loads(body)["ready"] is True
        status, metrics = request(f"{base}/metrics")
        assert status == 200
        # both updates are in the inbox (handled by now, or about to be)
        inbox_rows = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("execbot_inbox_updates{")
        ]
        assert sum(inbox_rows) == 2.0, metrics
        assert 'execbot_updates_received_total{mode="webhook"} 2.0' in metrics

        started = time.monotonic()
        assert bot.stop(signal.SIGTERM) == 0, w.logs()
        assert time.monotonic() - started < 10
        log = bot.log.read_text()
        assert SECRET not in log
        assert f"webhook set: Telegram posts updates to {base}/tg/hook" in log


def test_webhook_mode_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with world(tmp_path) as w:
        webhook_config(w)
        result = w.execbot("run", check=False, EXECBOT_TOKEN="123:abc")
        assert result.returncode == 2
        assert "webhook mode needs a secret" in result.stderr
        assert "EXECBOT_WEBHOOK_SECRET is not set" in result.stderr
        assert w.client.calls("setWebhook") == []
