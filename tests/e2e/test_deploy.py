"""The files in ``deploy/`` and the multi-instance harness, checked now: HAProxy accepts the
rendered ``deploy/haproxy.cfg`` and, run from it, forwards to healthy backends only and moves
a dead backend's requests to another; the systemd unit parses; the harness's database, sandbox,
HAProxy and webhook wiring work with stand-in backends (trivial aiohttp servers answering
``/readyz``) until execbot's own webhook server is there."""

from __future__ import annotations

import asyncio
import configparser
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from sandbox.server import DEFAULT_TOKEN
from tests.conftest import postgres_unavailable
from tests.e2e.harness import Proc, free_port
from tests.e2e.instances import (
    HAPROXY_CONFIG,
    SECRET,
    SYSTEMD_UNIT,
    URL_PATH,
    Instance,
    cluster,
    haproxy_binary,
    render_haproxy,
)

HAPROXY = haproxy_binary()
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="HAProxy is not installed")


# --- stand-in backends ----------------------------------------------------------------------


class Backends:
    """aiohttp servers on their own thread: ``/readyz`` (200, or 503 when told) and
    ``POST /telegram`` recording (server port, secret header, body)."""

    def __init__(self, count: int) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.ready = dict.fromkeys(self.ports, True)
        self.received: list[tuple[int, str | None, Any]] = []
        self._runners: dict[int, web.AppRunner] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        for port in self.ports:
            self._call(self._start(port))

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _start(self, port: int) -> None:
        async def readyz(request: web.Request) -> web.Response:
            return web.Response(status=200 if self.ready[port] else 503, text="ready?")

        async def hook(request: web.Request) -> web.Response:
            body = await request.json()
            self.received.append(
                (port, request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body)
            )
            return web.Response(text=str(port))

        app = web.Application()
        app.router.add_get("/readyz", readyz)
        app.router.add_post(f"/{URL_PATH}", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self._runners[port] = runner

    def stop(self, port: int) -> None:
        self._call(self._runners.pop(port).cleanup())

    def close(self) -> None:
        for port in list(self._runners):
            self.stop(port)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def backends() -> Iterator[Backends]:
    running = Backends(2)
    yield running
    running.close()


def start_haproxy(root: Path, frontend: int, ports: list[int]) -> Proc:
    assert HAPROXY is not None
    config = root / "haproxy.cfg"
    config.write_text(render_haproxy(HAPROXY_CONFIG.read_text(), frontend, ports))
    log = root / "haproxy.log"
    popen = subprocess.Popen(
        [HAPROXY, "-f", str(config), "-db"], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    return Proc("haproxy", popen, log)


def post(frontend: int, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{frontend}/{URL_PATH}",
        json=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=10,
    )


def wait_for(what: str, probe: Any, timeout: float = 10.0, log: Proc | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{log.tail() if log else ''}")


# --- the files ------------------------------------------------------------------------------


def test_haproxy_config_checks_health_and_moves_failed_requests() -> None:
    config = HAPROXY_CONFIG.read_text()
    for line in (
        "option httpchk GET /readyz",
        "http-check expect status 200",
        "retry-on all-retryable-errors",
        "option redispatch",
        "option http-buffer-request",
    ):
        assert line in config, line
    assert "fall 2 rise 2" in config and "inter 1s" in config


def test_render_keeps_the_file_and_replaces_bind_and_servers() -> None:
    template = HAPROXY_CONFIG.read_text()
    rendered = render_haproxy(template, 18000, [18001, 18002, 18003, 18004])
    servers = [line.split() for line in rendered.splitlines() if line.strip().startswith("server")]
    assert [s[1:3] for s in servers] == [
        [f"execbot-{port}", f"127.0.0.1:{port}"] for port in (18001, 18002, 18003, 18004)
    ]
    template_server = next(line for line in template.splitlines() if "server " in line).split()
    assert all(s[3:] == template_server[3:] for s in servers)  # options kept
    assert [line.strip() for line in rendered.splitlines() if "bind " in line] == [
        "bind 127.0.0.1:18000"
    ]
    others = [
        line for line in template.splitlines() if not line.strip().startswith(("bind", "server"))
    ]
    assert [
        line for line in rendered.splitlines() if not line.strip().startswith(("bind", "server"))
    ] == others


@needs_haproxy
def test_haproxy_accepts_the_rendered_config(tmp_path: Path) -> None:
    assert HAPROXY is not None
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        render_haproxy(HAPROXY_CONFIG.read_text(), free_port(), [free_port() for _ in range(3)])
    )
    result = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALERT" not in result.stdout + result.stderr


UNIT_KEYS = {
    "Service": {
        "EnvironmentFile": "/etc/execbot/env",
        "Environment": "EXECBOT_SERVER_PORT=%i",
        "KillSignal": "SIGTERM",
        "TimeoutStopSec": "15",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
    },
    "Install": {"WantedBy": "multi-user.target"},
}


def test_systemd_unit_has_what_the_instances_need() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(SYSTEMD_UNIT.read_text())
    assert parser.sections() == ["Unit", "Service", "Install"]
    service = parser["Service"]
    assert service["ExecStart"] == (
        "/opt/execbot/.venv/bin/execbot --config /etc/execbot/config.toml run"
    )
    # configparser keeps the last of repeated keys; systemd reads them all
    environment = [
        line.split("=", 1)[1]
        for line in SYSTEMD_UNIT.read_text().splitlines()
        if line.startswith("Environment=")
    ]
    assert "EXECBOT_SERVER_PORT=%i" in environment
    for section, keys in UNIT_KEYS.items():
        for key, value in keys.items():
            if key != "Environment":
                assert parser[section][key] == value, (section, key)
    assert "TOKEN=" not in SYSTEMD_UNIT.read_text().replace("EXECBOT_TOKEN=123456789:AA...", "")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    """systemd-analyze verify on an instance of the template; the executable is swapped for
    /bin/true, which exists here (verify refuses a missing ExecStart binary)."""
    unit = tmp_path / "execbot@8441.service"
    unit.write_text(SYSTEMD_UNIT.read_text().replace("/opt/execbot/.venv/bin/execbot", "/bin/true"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not [
        line for line in output.splitlines() if "execbot@" in line and "ignoring" in line.lower()
    ], output


# --- HAProxy from the committed file, in front of stand-in backends -------------------------


@needs_haproxy
def test_haproxy_forwards_to_ready_backends_and_around_dead_ones(
    tmp_path: Path, backends: Backends
) -> None:
    frontend = free_port()
    haproxy = start_haproxy(tmp_path, frontend, backends.ports)
    try:
        first, second = backends.ports

        def both_up() -> bool:
            try:
                answers = {post(frontend, {"update_id": n}).text for n in range(6)}
            except httpx.HTTPError:
                return False
            return answers == {str(first), str(second)}

        wait_for("both backends to get requests", both_up, log=haproxy)
        assert all(secret == SECRET for _, secret, _ in backends.received)
        # a backend that is not ready (503 on /readyz) gets nothing once marked down
        backends.ready[second] = False
        time.sleep(2.5)  # inter 1s, fall 2
        before = len(backends.received)
        answers = [post(frontend, {"update_id": 100 + n}) for n in range(10)]
        assert {a.status_code for a in answers} == {200}
        assert {port for port, _, _ in backends.received[before:]} == {first}
        # a backend that dies while marked up: its requests are retried on the other one
        backends.ready[second] = True
        wait_for("the second backend back", both_up, log=haproxy)
        backends.stop(first)
        answers = [post(frontend, {"update_id": 200 + n}) for n in range(10)]
        assert [a.status_code for a in answers] == [200] * 10, haproxy.tail()
        assert {a.text for a in answers} == {str(second)}
    finally:
        haproxy.stop()


# --- the harness with stand-in backends -----------------------------------------------------


@needs_haproxy
@pytest.mark.skipif(postgres_unavailable() is not None, reason=str(postgres_unavailable()))
def test_cluster_wires_sandbox_haproxy_and_database(tmp_path: Path, backends: Backends) -> None:
    start = datetime(2026, 11, 17, 5, 59, 50, tzinfo=UTC)
    with cluster(tmp_path, clock_start=start) as c:
        assert c.scalar("SELECT count(*) FROM inbox") == 0  # migrated
        c.instances.extend(Instance(n, port) for n, port in enumerate(backends.ports))
        haproxy = c.start_haproxy()
        c.wait("stand-ins ready", lambda: all(c.ready(i) for i in c.instances))
        c.set_webhook()
        person = c.client.create_person("Ann", started=True)
        c.client.send_texts([person["id"]], "hello")
        c.wait("the update through HAProxy", lambda: backends.received)
        port, secret, update = backends.received[0]
        assert port in backends.ports and secret == SECRET
        assert update["message"]["text"] == "hello"
        counters = c.client.counters()
        assert counters["webhook_confirmed"] == 1
        assert c.now() > start
        # cutting the database connections: ours is spared, a second one is cut
        other = c.engine.connect()
        try:
            assert c.terminate_backends() >= 1
        finally:
            other.invalidate()
            other.close()
        assert haproxy.popen.poll() is None


@needs_haproxy
@pytest.mark.skipif(postgres_unavailable() is not None, reason=str(postgres_unavailable()))
def test_cluster_kills_restarts_and_stops_instances(tmp_path: Path) -> None:
    """Three stand-in instances (processes serving /readyz and the webhook path on
    EXECBOT_SERVER_PORT) behind HAProxy: the sandbox's updates reach them; one is SIGKILLed
    and delivery goes on through the others; it restarts on its port; SIGTERM stops all."""
    start = datetime(2026, 11, 17, 5, 59, 50, tzinfo=UTC)
    with cluster(tmp_path, clock_start=start) as c:
        c.command = [sys.executable, str(Path(__file__).with_name("standin_instance.py"))]
        c.start(3)
        c.wait_ready(timeout=30)
        c.set_webhook()
        people = [p["id"] for p in c.client.create_people([{"first_name": "A"}] * 60, started=True)]

        def received() -> list[int]:
            ids: list[int] = []
            for instance in c.instances:
                path = tmp_path / f"received-{instance.port}.txt"
                if path.exists():
                    ids += [int(n) for n in path.read_text().split()]
            return ids

        first = c.client.send_texts(people[:30], "one")["sent"]
        c.wait("the first batch", lambda: len(received()) >= 30)
        victim = c.instances[1]
        c.kill(victim)
        assert not victim.alive
        second = c.client.send_texts(people[30:], "two")["sent"]
        c.wait("the second batch despite the kill", lambda: len(set(received())) >= 60)
        c.restart(victim)
        assert victim.runs == 2
        c.wait_ready([victim])
        produced = {s["update_id"] for s in first + second}
        assert set(received()) == produced
        assert c.client.counters()["webhook_confirmed"] == 60
        stopped = c.stop_all()
        assert sorted(stopped) == sorted(i.proc.name for i in c.instances if i.proc)
        assert all(code == 0 and seconds < 10 for code, seconds in stopped.values()), stopped


@pytest.mark.skipif(postgres_unavailable() is not None, reason=str(postgres_unavailable()))
def test_wave_follower_taps_each_nudge_once(tmp_path: Path) -> None:
    """The wave helpers of instances.py: people imported and bound, nudges (sent here
    through the Bot API as execbot would) seen in the call log, tappers tap Done once,
    answers counted."""
    from tests.e2e.instances import WAVE_START, Wave, prepare_wave
    from tests.e2e.test_instances import answered_taps

    with cluster(tmp_path, clock_start=WAVE_START) as c:
        chats = prepare_wave(c, 40)
        bound = c.scalar("SELECT count(*) FROM person WHERE telegram_user_id IS NOT NULL")
        assert bound == 40
        wave = Wave(c, chats, set(chats[::4]))
        api = f"{c.world.url}/bot{DEFAULT_TOKEN}"
        keyboard = '{"inline_keyboard": [[{"text": "Done", "callback_data": "d"}]]}'
        for chat in chats:
            httpx.post(
                f"{api}/sendMessage",
                data={
                    "chat_id": chat,
                    "text": "Ann, your duties for today:",
                    "reply_markup": keyboard,
                },
            ).raise_for_status()
        wave.until("everyone nudged", wave.everyone_nudged, timeout=30)
        assert sorted(tap["person_id"] for tap in wave.taps.values()) == chats[::4]
        first = next(iter(wave.taps))
        httpx.post(f"{api}/answerCallbackQuery", data={"callback_query_id": first})
        wave.follow()
        assert len(wave.taps) == 10  # nobody taps twice
        assert answered_taps(c) == {first}
        assert wave.sent() == 40
