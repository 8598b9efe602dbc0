"""Webhook intake: how many updates a second execbot's webhook commits to the inbox, and how
long Telegram waits for each 200, with Telegram's default 40 connections at once.
Targets: at least 200 updates a second (a 1,000-person reply storm taken in 5 s) and a p99
answer under 0.5 s.

Method. The webhook and operations server (``bot.ops.web_application`` with the webhook
``Receiver``, as ``execbot run`` builds it in webhook mode) runs in a child process on a free
port of 127.0.0.1, over a fresh migrated database (a SQLite file in a temp dir; PostgreSQL in
a fresh schema when 127.0.0.1:5432 answers). This process posts N message updates (one chat
each, distinct update ids, the secret header) over ``--connections`` keep-alive connections,
timing each request from send to answer; then it posts the first tenth again (Telegram
retrying) and checks the inbox holds exactly N rows. The figures are updates per second
(N / wall time of the first round) and the p50 and p99 of the answer times.

    .venv/bin/python bench/webhook_ingest.py              # about half a minute
    .venv/bin/python bench/webhook_ingest.py --quick      # 500 updates, SQLite only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a script: import from the repository root instead of bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.common import (
    Row,
    Table,
    free_port,
    postgres_engine,
    postgres_unavailable,
    say,
    sqlite_engine,
)
from models.tables import InboxUpdate

SECRET = "bench-webhook-Secret_0123456789"
RATE_TARGET, P99_TARGET = 200.0, 0.5


def update(update_id: int) -> bytes:
    chat = 10_000 + update_id
    person = {"id": chat, "is_bot": False, "first_name": f"P{update_id}"}
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": chat, "type": "private", "first_name": f"P{update_id}"},
                "from": person,
                "text": "done 1",
            },
        }
    ).encode()


# --- the server (child process) ---------------------------------------------------------------


def serve(db_url: str, port: int) -> None:
    import telegram

    from bot import config, ops
    from bot.delivery.webhook import Receiver
    from bot.runtime import Runtime
    from bot.store.engine import make_engine

    settings = config.parse(
        {
            "telegram": {"mode": "webhook", "webhook": {"url_path": "hook"}},
            "database": {"url": db_url},
        },
        source="bench",
    )

    async def run() -> None:
        rt = Runtime(settings, make_engine(db_url))
        bot = telegram.Bot("1:bench", base_url="http://127.0.0.1:9/bot")  # never called
        web_app = ops.web_application(rt, bot, None, Receiver(rt, SECRET))
        server = await ops.start(web_app, "127.0.0.1", port)
        await ops.stop_on_signals().wait()
        await server.stop()

    asyncio.run(run())


# --- the client (this process) ----------------------------------------------------------------


async def post_all(url: str, ids: range, connections: int) -> tuple[float, list[float], int]:
    """Post every update; (wall seconds, answer times, answers other than 200)."""
    times: list[float] = []
    failed = 0
    queue = list(ids)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal failed
            while queue:
                body = update(queue.pop())
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    failed += response.status != 200
                times.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return time.perf_counter() - started, times, failed


def wait_healthy(url: str, child: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError("the webhook server exited")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the webhook server did not answer within 60 s")


def inbox_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(InboxUpdate)).scalar_one())


def measure(name: str, engine: Engine, count: int, connections: int, table: Table) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db_url = engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.webhook_ingest", "--serve", db_url, str(port)],
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        wait_healthy(url, child)
        wall, times, failed = asyncio.run(post_all(url + "/hook", range(1, count + 1), connections))
        _, _, failed_again = asyncio.run(
            post_all(url + "/hook", range(1, count // 10 + 1), connections)
        )
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(15)
    rows = inbox_rows(engine)
    rate = count / wall
    cuts = statistics.quantiles(times, n=100)
    p50, p99 = cuts[49], cuts[98]
    say(
        f"{name}: {count} updates in {wall:.2f} s = {rate:.0f}/s; answer p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms; non-200 {failed} + {failed_again}; inbox rows {rows}"
    )
    table.add(
        Row(
            f"{name}: updates stored per second",
            f"{rate:.0f}/s",
            target=f">= {RATE_TARGET:.0f}/s",
            met=rate >= RATE_TARGET,
        )
    )
    table.add(
        Row(
            f"{name}: answer p50 / p99",
            f"{p50 * 1000:.1f} / {p99 * 1000:.1f} ms",
            target=f"p99 < {P99_TARGET * 1000:.0f} ms",
            met=p99 < P99_TARGET,
        )
    )
    table.add(
        Row(
            f"{name}: rows after a redelivery of {count // 10}",
            str(rows),
            target=f"== {count}",
            met=rows == count and failed == failed_again == 0,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="500 updates, SQLite only")
    parser.add_argument("--serve", nargs=2, metavar=("DB_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    count = 500 if args.quick else args.updates
    table = Table()
    with tempfile.TemporaryDirectory() as tmp, sqlite_engine(Path(tmp), "bench.db") as engine:
        measure("SQLite", engine, count, args.connections, table)
    if not args.quick:
        problem = postgres_unavailable()
        if problem:
            say(f"PostgreSQL skipped: {problem}")
        else:
            with postgres_engine() as engine:
                measure("PostgreSQL", engine, count, args.connections, table)
    say(table.render())


if __name__ == "__main__":
    main()
