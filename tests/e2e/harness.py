"""End-to-end harness: the sandbox and the real ``execbot`` as separate processes, talking
over HTTP on 127.0.0.1, with a real database file. Each process logs to a file in the test's
folder; a failing wait prints the tails of those logs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from bot.store.engine import make_engine
from sandbox.client import SandboxClient
from sandbox.server import DEFAULT_TOKEN

EXECBOT = str(Path(sys.executable).with_name("execbot"))
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECBOT_")}
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} log ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return int(self.popen.returncode)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@dataclass
class World:
    """One sandbox, a work folder with config and database, and the bots started in it."""

    root: Path
    sandbox: Proc
    client: SandboxClient
    url: str
    db_url: str
    config_extra: str = ""
    bots: list[Proc] = field(default_factory=list)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.db_url)
        return self._engine

    def write_config(self, extra: str = "") -> Path:
        path = self.root / "config.toml"
        path.write_text(
            "[telegram]\n"
            f'api_base_url = "{self.url}/bot"\n'
            f'file_base_url = "{self.url}/file/bot"\n'
            'poll_timeout = "2s"\n'
            "[database]\n"
            f'url = "{self.db_url}"\n'
            "[nudges]\n"
            'tick = "1s"\n'
            'plan_every = "1m"\n' + (extra or self.config_extra)
        )
        return path

    def execbot(
        self, *args: str, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [EXECBOT, *args],
            cwd=self.root,
            env=clean_env(EXECBOT_CONFIG=str(self.root / "config.toml"), **env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"execbot {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def start_bot(self, **env: str) -> Proc:
        index = len(self.bots)
        log = self.root / f"bot-{index}.log"
        popen = subprocess.Popen(
            [EXECBOT, "--log-level", "DEBUG", "run"],
            cwd=self.root,
            env=clean_env(
                EXECBOT_CONFIG=str(self.root / "config.toml"),
                EXECBOT_TOKEN=DEFAULT_TOKEN,
                **env,
            ),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        proc = Proc(f"bot-{index}", popen, log)
        self.bots.append(proc)
        return proc

    def wait(
        self, what: str, probe: Callable[[], T | None], timeout: float = 30.0, every: float = 0.1
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            for proc in self.bots:
                if proc.popen.poll() is not None and proc is self.bots[-1]:
                    raise AssertionError(
                        f"{proc.name} exited while waiting for {what}\n{self.logs()}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(every)

    def logs(self) -> str:
        return "\n".join(proc.tail() for proc in [self.sandbox, *self.bots])

    def wait_ready(self, bot: Proc) -> None:
        """Until the bot has set its commands (the end of its start-up) and is polling."""
        self.wait(
            f"{bot.name} to start",
            lambda: (
                any(c["status"] == 200 for c in self.client.calls("setMyCommands"))
                and len(self.client.calls("getUpdates")) > 0
            ),
            timeout=30,
        )

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [e for e in self.client.transcript(chat_id) if e.get("kind", "message") == "message"]

    def bot_message(
        self, chat_id: int, pattern: str, after: int = 0, timeout: float = 40
    ) -> dict[str, Any]:
        """Wait for the first bot message in the chat with an id above ``after`` whose text
        matches ``pattern`` (a regular expression), and return it."""
        return self.wait(
            f"{pattern!r} in chat {chat_id}",
            lambda: next(
                (
                    m
                    for m in self.messages(chat_id)
                    if m["from"] == "bot"
                    and m["message_id"] > after
                    and re.search(pattern, m["text"] or "")
                ),
                None,
            ),
            timeout=timeout,
        )


@contextmanager
def world(
    root: Path,
    *,
    limits: bool = True,
    db_url: str | None = None,
    latency: tuple[float, float] = (0.0, 0.0),
) -> Iterator[World]:
    """``latency``: each Bot API call waits a random time in this range (seconds); the real
    Telegram answers in 100-300 ms, so tests of timing-sensitive paths should use (0.1, 0.3)."""
    port = free_port()
    log = root / "sandbox.log"
    args = [EXECBOT, "sandbox", "--port", str(port), "--latency", f"{latency[0]}-{latency[1]}"]
    args += [] if limits else ["--no-limits"]
    popen = subprocess.Popen(
        args, cwd=root, env=clean_env(), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    sandbox = Proc("sandbox", popen, log)
    url = f"http://127.0.0.1:{port}"
    client = SandboxClient(url)
    w = World(root, sandbox, client, url, db_url or f"sqlite:///{root / 'execbot.db'}")
    try:
        w.wait("the sandbox", lambda: _healthy(client), timeout=20)
        yield w
    finally:
        for proc in w.bots:
            proc.stop()
        sandbox.stop()
        client.close()
        if w._engine is not None:
            w._engine.dispose()


def _healthy(client: SandboxClient) -> bool:
    try:
        client.health()
    except Exception:
        return False
    return True
