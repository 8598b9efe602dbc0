"""A reply storm: every one of N people (1,000) taps Done on their nudge at once, against the
sandbox with Telegram's limits on and 100-300 ms of Bot API latency.

``execbot run`` runs as its own process (SQLite, the virtual clock at 06:59:58, so the nudge
wave goes out first, paced at 30 a second). When every nudge is delivered, the people tap
Done, as fast as the bench can send the taps (a few hundred a second). Printed:

- tap-to-answer p50 / p99 / max: from when the bench sent the tap to the sandbox's log time of
  the first answerCallbackQuery call for that query (answered late, refused with 400, counts
  too); and how many were answered after 15 s (past Telegram's answer window) or not at all;
- the sandbox's own figures (``/sandbox/counters``: ``tap_to_answer_ms`` from the tap's update
  to its first answer, ``late_callback_answers``), which decide the target;
- the CPU execbot used from the first tap to the last answer, per tap (from ``/proc``): on
  a 2-core machine the storm is bound by it;
- replies stored: must equal the taps, each once (``reply.telegram_update_id`` unique).

Then the same storm (the same people tap Done again) against a minimal python-telegram-bot
application on the same sandbox: one CallbackQueryHandler that answers the query and edits
the message, ``concurrent_updates(True)``, no rate limiter, polling with PTB's Updater.

Targets (issue 12): p99 under 1 s, none answered after 15 s, replies == taps.

    .venv/bin/python -m bench.reply_storm            # 1,000 people, about 2-3 minutes
    .venv/bin/python -m bench.reply_storm --quick    # 100 people
    .venv/bin/python -m bench.reply_storm --postgres # on PostgreSQL (the test database)
    .venv/bin/python -m bench.reply_storm --webhook  # webhook mode (the sandbox delivers)
    .venv/bin/python -m bench.reply_storm --rate 100 # 100 taps a second instead of all at once
    .venv/bin/python -m bench.reply_storm --skip-reference --profile /tmp/storm.txt  # py-spy

``--profile`` needs py-spy (``pip install py-spy`` into the venv; not a dependency): it
samples execbot from the first tap to the last answer and writes collapsed stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import (
    EXECBOT,
    free_port,
    open_chats,
    postgres_engine,
    prepare_wave,
    process_cpu,
    sandbox,
    sqlite_engine,
    stop_process,
)
from sandbox.client import AsyncSandboxClient, SandboxClient
from sandbox.server import DEFAULT_TOKEN

START = "2026-11-17T06:59:58+01:00"
FIRST_CHAT = 60_000
WINDOW = 15.0  # seconds Telegram takes an answer to a callback query
TARGET_P99 = 1.0
TAP_CONCURRENCY = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="100 people")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--workers", type=int, default=16, help="[inbox] workers (16)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (the test database)")
    parser.add_argument("--keep-log", metavar="PATH", help="copy execbot's log here at the end")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="taps a second, spread evenly (0: all at once, as fast as the bench can)",
    )
    parser.add_argument(
        "--webhook", action="store_true", help="execbot in webhook mode (the sandbox delivers)"
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="py-spy (if installed) samples execbot during the storm; collapsed stacks to PATH",
    )
    parser.add_argument("--serve-reference", metavar="API_BASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_reference:
        serve_reference(args.serve_reference)
        return
    people = 100 if args.quick else args.people
    chats = list(range(FIRST_CHAT, FIRST_CHAT + people))
    with tempfile.TemporaryDirectory(prefix="execbot-storm-") as tmp:
        workdir = Path(tmp)
        with sandbox(workdir, limits=True, latency="0.1-0.3") as sb, ExitStack() as stack:
            asyncio.run(open_chats(sb.url, chats))
            engine = stack.enter_context(
                postgres_engine() if args.postgres else sqlite_engine(workdir, "storm.db")
            )
            prepare_wave(engine, workdir, chats, datetime.fromisoformat(START))
            engine.dispose()  # execbot has the database to itself until the counting
            url = engine.url.render_as_string(hide_password=False)
            config = workdir / "config.toml"
            config.write_text(
                "[telegram]\n"
                f'api_base_url = "{sb.api_base}"\nfile_base_url = "{sb.file_base}"\n'
                'poll_timeout = "2s"\n'
                f'[database]\nurl = "{url}"\n'
                '[nudges]\ntick = "1s"\nplan_every = "10m"\n'
                '[escalation]\nquiet_hours = ""\n'
                f"[inbox]\nworkers = {args.workers}\n"
            )
            if args.webhook:
                port = free_port()
                config.write_text(
                    config.read_text().replace("[telegram]\n", '[telegram]\nmode = "webhook"\n', 1)
                    + f'[telegram.webhook]\nurl_path = "hook"\nport = {port}\n'
                    f'public_url = "http://127.0.0.1:{port}/hook"\n'
                )
            env = {k: v for k, v in os.environ.items() if not k.startswith("EXECBOT_")}
            env.update(
                EXECBOT_CONFIG=str(config), EXECBOT_TOKEN=DEFAULT_TOKEN, EXECBOT_CLOCK_START=START
            )
            if args.webhook:
                env["EXECBOT_WEBHOOK_SECRET"] = "storm-" + os.urandom(8).hex()
            log = (workdir / "execbot.log").open("wb")
            command = [EXECBOT, "run"]
            bot = subprocess.Popen(
                command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                waited = wait_nudges(sb.client, people, bot)
                print(
                    f"{people} people, {engine.dialect.name}, "
                    f"{'webhook' if args.webhook else 'polling'}, "
                    f"[inbox] workers = {args.workers}; "
                    f"nudge wave delivered in {waited:.1f}s"
                )
                nudges = asyncio.run(find_nudges(sb.url, chats))
                cpu_before = process_cpu(bot.pid)
                spy = start_profile(bot.pid, args.profile) if args.profile else None
                result = asyncio.run(storm(sb.url, sb.client, nudges, "Done", args.rate))
                cpu = process_cpu(bot.pid) - cpu_before
                if spy is not None:
                    stop_profile(spy, args.profile)
                measured = sb.client.counters()  # only execbot's taps so far
                with engine.connect() as conn:
                    replies = conn.execute(text("SELECT count(*) FROM reply")).scalar_one()
                    distinct = conn.execute(
                        text("SELECT count(DISTINCT telegram_update_id) FROM reply")
                    ).scalar_one()
                    inbox = conn.execute(
                        text("SELECT payload, received_at, handled_at FROM inbox")
                    ).all()
                print_inbox_lag(result["taps"], inbox)
            finally:
                stop_process(bot)
                log.close()
                if args.keep_log:
                    shutil.copyfile(workdir / "execbot.log", args.keep_log)
            report("execbot", result, people)
            print_sandbox(measured)
            print_cpu("execbot", cpu, len(result["taps"]))
            once = replies == distinct == len(result["taps"])
            print(
                f"  replies stored: {replies} for {len(result['taps'])} taps "
                f"({distinct} distinct updates){'' if once else '  TARGET MISSED'}"
            )
            if not args.skip_reference:
                ref = subprocess.Popen(
                    [sys.executable, "-m", "bench.reply_storm", "--serve-reference", sb.api_base],
                    cwd=Path(__file__).resolve().parent.parent,
                    stdout=(workdir / "reference.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
                try:
                    time.sleep(3)  # its start-up (getMe, first getUpdates)
                    cpu_before = process_cpu(ref.pid)
                    result = asyncio.run(storm(sb.url, sb.client, nudges, None, args.rate))
                    cpu = process_cpu(ref.pid) - cpu_before
                finally:
                    stop_process(ref)
                report("minimal python-telegram-bot (answer + edit)", result, people, target=False)
                print_cpu("the reference", cpu, len(result["taps"]))


def wait_nudges(client: SandboxClient, people: int, bot: subprocess.Popen[bytes]) -> float:
    began = time.monotonic()
    while True:
        sent = client.counters()["methods"].get("sendMessage", 0)
        if sent >= people:
            return time.monotonic() - began
        if bot.poll() is not None:
            raise RuntimeError("execbot stopped before the wave was out")
        if time.monotonic() - began > 30 + people / 10:
            raise RuntimeError(f"only {sent} of {people} nudges went out")
        time.sleep(0.5)


async def find_nudges(url: str, chats: list[int]) -> dict[int, tuple[int, str]]:
    """Each chat's nudge: its message id and the callback data of its Done button."""
    found: dict[int, tuple[int, str]] = {}
    slots = asyncio.Semaphore(32)
    async with AsyncSandboxClient(url, timeout=30.0) as client:

        async def one(chat: int) -> None:
            async with slots:
                for entry in await client.transcript(chat):
                    markup = entry.get("reply_markup") or {}
                    for row in markup.get("inline_keyboard", []):
                        for button in row:
                            if "Done" in button["text"]:
                                found[chat] = (entry["message_id"], button["callback_data"])
                                return

        await asyncio.gather(*(one(chat) for chat in chats))
    return found


async def storm(
    url: str,
    client: SandboxClient,
    nudges: dict[int, tuple[int, str]],
    label: str | None,
    rate: float = 0.0,
) -> dict[str, Any]:
    """Every person taps Done once, as fast as the bench can (or ``rate`` taps a second,
    evenly spread); then wait for the answers."""
    taps: dict[str, float] = {}
    slots = asyncio.Semaphore(TAP_CONCURRENCY)
    async with AsyncSandboxClient(url, timeout=30.0) as people:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1

        async def tap(index: int, chat: int, message_id: int, data: str) -> None:
            if rate > 0:
                await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
            async with slots:
                at = time.time()
                query = await people.tap(chat, message_id, data=data, forge=True)
                taps[query] = at

        before = await people.counters()
        mark = max((c["seq"] for c in await people.calls(limit=1)), default=0)
        began = time.monotonic()
        await asyncio.gather(
            *(tap(i, chat, m, d) for i, (chat, (m, d)) in enumerate(nudges.items()))
        )
        sent_in = time.monotonic() - began
        deadline = time.monotonic() + 120
        want = before["answered_callback_queries"] + len(taps)
        while time.monotonic() < deadline:  # the counters are cheap; the call log is not
            if (await people.counters())["answered_callback_queries"] >= want:
                break
            await asyncio.sleep(0.5)
        answered: dict[str, float] = {}
        for call in await people.calls("answerCallbackQuery", since=mark):
            query = str(call["params"]["callback_query_id"])
            if query in taps:  # 400 "query is too old": answered, but late
                answered.setdefault(query, float(call["time"]))
    waits = sorted(answered[q] - taps[q] for q in answered)
    return {"taps": taps, "waits": waits, "sent_in": sent_in}


def report(name: str, result: dict[str, Any], people: int, *, target: bool = True) -> None:
    waits: list[float] = result["waits"]
    taps = len(result["taps"])
    missing = taps - len(waits)
    late = sum(1 for w in waits if w > WINDOW) + missing
    if waits:
        p50 = statistics.median(waits)
        p99 = waits[max(0, math.ceil(0.99 * len(waits)) - 1)]
        figures = f"p50 {p50:.3f}s  p99 {p99:.3f}s  max {waits[-1]:.3f}s"
    else:
        p99, figures = float("inf"), "no answers"
    missed = target and (p99 >= TARGET_P99 or late > 0)
    print(
        f"{name}: {taps} taps sent in {result['sent_in']:.1f}s "
        f"({taps / max(result['sent_in'], 1e-9):.0f}/s); tap-to-answer {figures}; "
        f"after {WINDOW:.0f}s or never: {late}{'  TARGET MISSED' if missed else ''}"
    )


def start_profile(pid: int, path: str) -> subprocess.Popen[bytes] | None:
    """py-spy sampling ``pid`` (every thread, native frames off) until :func:`stop_profile`."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("  py-spy not installed: no profile")
        return None
    command = [spy, "record", "--pid", str(pid), "--format", "raw", "--output", path]
    command += ["--rate", "200", "--nonblocking", "--threads"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached before the first tap
    return process


def stop_profile(process: subprocess.Popen[bytes], path: str) -> None:
    process.send_signal(signal.SIGINT)  #: py-spy writes its output and exits
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    print(f"  profile (py-spy collapsed stacks): {path}")


def print_cpu(name: str, cpu: float, taps: int) -> None:
    print(
        f"  {name}'s CPU from the first tap to the last answer: {cpu:.1f} s "
        f"({1000 * cpu / max(taps, 1):.1f} ms a tap)"
    )


def print_sandbox(counters: dict[str, Any]) -> None:
    """The sandbox's own measure: from the tap's update to its first answer, as it saw them."""
    summary = counters.get("tap_to_answer_ms") or {}
    if not summary.get("count"):
        print("  sandbox: no answers  TARGET MISSED")
        return
    late, unanswered = counters["late_callback_answers"], counters["unanswered_callback_queries"]
    missed = summary["p99"] >= 1000 * TARGET_P99 or late > 0 or unanswered > 0
    print(
        f"  sandbox: {summary['count']} answered, tap-to-answer p50 {summary['p50']:.0f} ms  "
        f"p90 {summary['p90']:.0f} ms  p99 {summary['p99']:.0f} ms  max {summary['max']:.0f} ms; "
        f"late {late}, unanswered {unanswered}{'  TARGET MISSED' if missed else ''}"
    )


def print_inbox_lag(taps: dict[str, float], rows: Sequence[Any]) -> None:
    """Where the time goes: from the tap to its row in the inbox (getUpdates and the commit),
    and from there to the outcome recorded (waiting for a worker, handling, recording)."""
    stored, handled = [], []
    for payload, received_at, handled_at in rows:
        data = json.loads(payload) if isinstance(payload, str) else payload
        query = str((data.get("callback_query") or {}).get("id"))
        if query in taps and received_at and handled_at:
            received = _utc(received_at).timestamp()
            stored.append(received - taps[query])
            handled.append(_utc(handled_at).timestamp() - received)
    if stored:
        print(
            f"  inbox: stored after p50 {statistics.median(stored):.3f}s "
            f"(max {max(stored):.3f}s); handled and recorded after p50 "
            f"{statistics.median(handled):.3f}s (max {max(handled):.3f}s) from storing"
        )


def _utc(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def serve_reference(api_base: str) -> None:
    """The comparison bot: answers each tap and edits its message, nothing else."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

    async def on_tap(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Recorded")
        if query.message is not None:
            await query.edit_message_text("Recorded ✅")

    app = (
        ApplicationBuilder()
        .token(DEFAULT_TOKEN)
        .base_url(f"{api_base}")
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_error_handler(lambda _u, _c: asyncio.sleep(0))
    app.run_polling(poll_interval=0.0, timeout=2, allowed_updates=[Update.CALLBACK_QUERY])


if __name__ == "__main__":
    main()
