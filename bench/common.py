"""Shared pieces of the benchmarks: the sandbox in its own process, throw-away databases
(SQLite in a temp dir, PostgreSQL in a fresh schema), the wave org, and the result table.

Nothing here measures anything; the scripts (``nudge_wave.py``, ``plan_day.py``) do.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.services.org_import import import_org
from bot.store import migrate
from bot.store.engine import make_engine
from sandbox.client import AsyncSandboxClient, SandboxClient

ROOT = Path(__file__).resolve().parent.parent
_BESIDE_PYTHON = Path(sys.executable).with_name("execbot")
EXECBOT = str(_BESIDE_PYTHON if _BESIDE_PYTHON.exists() else ROOT / ".venv" / "bin" / "execbot")
POSTGRES_URL = os.environ.get(
    "EXECBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# --- the sandbox, in its own process ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    url: str
    client: SandboxClient
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def api_base(self) -> str:
        return f"{self.url}/bot"

    @property
    def file_base(self) -> str:
        return f"{self.url}/file/bot"

    def cpu_seconds(self) -> float:
        return float(self.client.health()["cpu_seconds"])

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def sandbox(workdir: Path, *, limits: bool, latency: str = "0") -> Iterator[Sandbox]:
    """``execbot sandbox --port P [--no-limits] [--latency MIN-MAX]`` as a child process;
    always stopped."""
    port = free_port()
    args = [EXECBOT, "sandbox", "--port", str(port)] + ([] if limits else ["--no-limits"])
    args += ["--latency", latency]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECBOT_")}
    log_path = workdir / f"sandbox-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    client = SandboxClient(url, timeout=30.0)
    try:
        _wait_healthy(client, process, log_path)
        yield Sandbox(url, client, process, log_path)
    finally:
        client.close()
        stop_process(process)


def _wait_healthy(client: SandboxClient, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            client.health()
            return
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start:\n{log.read_text()}") from None
            time.sleep(0.1)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def open_chats(url: str, chat_ids: list[int], concurrency: int = 16) -> None:
    """Create the people in the sandbox with their chat already started (no update)."""
    slots = asyncio.Semaphore(concurrency)
    async with AsyncSandboxClient(url, timeout=30.0) as client:

        async def create(chat_id: int) -> None:
            async with slots:
                await client.create_person(f"P{chat_id}", id=chat_id, started=True)

        await asyncio.gather(*(create(chat_id) for chat_id in chat_ids))


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def sqlite_engine(workdir: Path, name: str) -> Iterator[Engine]:
    """A migrated SQLite file (WAL, as execbot sets it) in ``workdir``."""
    engine = make_engine(f"sqlite:///{workdir / name}")
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None if a server answers."""
    try:
        engine = make_engine(_with_param(POSTGRES_URL, "connect_timeout=3"))
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, and say why
        return f"not reachable at {POSTGRES_URL}: {exc}".splitlines()[0]
    return None


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    """A migrated fresh schema of the ``test`` database, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(_with_param(POSTGRES_URL, f"options=-csearch_path%3D{schema}"))
        try:
            migrate.upgrade(engine)
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _with_param(url: str, param: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{param}"


# --- the wave org -------------------------------------------------------------------------------


def wave_org(people: int) -> str:
    """One plant, ``people`` operators, one duty for every operator nudged at 07:00."""
    lines = [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\n',
        "[[duties]]\n"
        'key = "round"\ntitle = "Morning round"\npost = "operator"\nunit = "plant"\n'
        'nudge = "07:00"\ndue = "11:00"\n',
    ]
    for i in range(people):
        lines.append(
            f'[[people]]\nkey = "p{i}"\nname = "Person {i}"\nunit = "plant"\npost = "operator"\n'
        )
    return "\n".join(lines)


def import_file(engine: Engine, path: Path, now: datetime) -> None:
    result = import_org(engine, [path], now, dry_run=False)
    if result.problems:
        raise RuntimeError(result.report())


def prepare_wave(engine: Engine, workdir: Path, chat_ids: list[int], now: datetime) -> None:
    """People in the org, joined (bound to their chat ids in the database), as if each had
    redeemed an invite. Onboarding is not what is measured."""
    org = workdir / f"wave-{uuid.uuid4().hex[:8]}.toml"
    org.write_text(wave_org(len(chat_ids)))
    import_file(engine, org, now)
    org.unlink()
    bind = text("UPDATE person SET telegram_user_id = :chat WHERE key = :k")
    with engine.begin() as conn:
        conn.execute(bind, [{"k": f"p{i}", "chat": chat} for i, chat in enumerate(chat_ids)])


# --- printing -----------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    execbot: str
    reference: str = ""
    target: str = ""
    met: bool | None = None  # None: no target


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def render(self) -> str:
        out = [f"{'figure':<44} {'execbot':<26} {'reference':<24} target"]
        for row in self.rows:
            verdict = "" if row.met is None else ("  ok" if row.met else "  TARGET MISSED")
            out.append(
                f"{row.figure:<44} {row.execbot:<26} {row.reference:<24} {row.target}{verdict}"
            )
        return "\n".join(out)


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the process has used, from /proc (0 where absent)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def say(*parts: Any) -> None:
    print(*parts, flush=True)
