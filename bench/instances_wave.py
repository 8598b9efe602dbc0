"""The same nudge wave with one and with three instances: ``execbot run`` processes in webhook
mode behind HAProxy (``deploy/haproxy.cfg``) on one fresh PostgreSQL database, the sandbox
with Telegram's limits on and 100-300 ms of Bot API latency (the multi-instance tests'
harness, ``tests/e2e/instances.py``).

N people (1,500; ``--people``) are nudged at 07:00 on the virtual clock; a share of them
(``--tap-share``, 1/6) tap Done as soon as their nudge arrives (the taps come back through the
webhook, HAProxy and any instance; their nudge edits go through the outbox). The clock is
set so that 07:00 comes ``--lead`` seconds after the instances are started. Printed for each
run, then side by side:

- wave: seconds from the first nudge delivered to the last (the sandbox's log times), and
  when the first one came relative to every instance being ready;
- messages/s: mean (paced messages, sends and edits, from the first to the last, over that
  time) and the busiest whole second of the sandbox's log, next to the sandbox's own peak
  (any 1-second window) and the busiest chat's;
- 429s, duplicates (nudges a chat got more than once), nudges missing;
- taps: the sandbox's tap-to-answer p50 / p99 / max, answers after Telegram's 15 s window;
- the instances' ``[delivery] margin``: by default the tests' (:func:`pacing_for`: the
  sandbox counts a send after its latency, so the margin covers the latency's spread);
  ``--margin 0.15`` shows the old default (execbot's default is 0.3 since);
- who sent: how often the ``sender`` lease changed hands (``sending as`` in the logs), and
  each instance's CPU seconds, the sandbox's, and the machine's load average.

Three instances share one sender (the lease ``sender``: one pacer for the bot, as Telegram
counts), so the wave cannot go faster than Telegram's 30 a second with three; what the bench
shows is that it goes no slower (the target: three's wave within 5% of one's), while the
taps are handled by all three. Nothing asserts speed; a missed target prints
``TARGET MISSED``. Needs PostgreSQL on 127.0.0.1:5432 (``EXECBOT_TEST_POSTGRES_URL``) and
HAProxy (Debian's ``haproxy``).

    .venv/bin/python -m bench.instances_wave                 # 1,500 people: about 5 minutes
    .venv/bin/python -m bench.instances_wave --people 3000   # about 8 minutes
    .venv/bin/python -m bench.instances_wave --people 300 --instances 3   # a quick look
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import re
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import process_cpu
from tests.conftest import postgres_unavailable
from tests.e2e.instances import (
    NUDGE,
    Wave,
    cluster,
    haproxy_binary,
    pacing_for,
    prepare_wave,
)

NUDGE_AT = datetime.fromisoformat("2026-11-17T07:00:00+01:00")
PACED = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
WINDOW = 15.0  # seconds Telegram takes an answer to a callback query
LIMIT = 30  # messages a second, Telegram's
SLOWER_BY = 0.05  # three instances' wave may take this much longer than one's (noise)
GAP = 0.25  # seconds without a paced message that count as the sender idling (pacing: 0.04)
SENDING_AS = re.compile(r"sending as (\S+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--tap-share", type=float, default=1 / 6, help="share who tap (1/6)")
    parser.add_argument("--instances", default="1,3", help="instance counts to run, in order (1,3)")
    parser.add_argument("--latency", default="0.1-0.3", help="Bot API latency MIN-MAX seconds")
    parser.add_argument(
        "--lead", type=float, default=30.0, help="seconds from the start to 07:00 (30)"
    )
    parser.add_argument(
        "--margin",
        type=float,
        help="[delivery] margin of the instances (default: the tests', the latency's spread "
        "+ 0.1 s; execbot's default is 0.3)",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the logs of each run under DIR")
    args = parser.parse_args()
    reason = postgres_unavailable()
    if reason is not None:
        raise SystemExit(f"PostgreSQL needed: {reason}")
    if haproxy_binary() is None:
        raise SystemExit("HAProxy needed: apt-get install haproxy")
    low, high = (float(x) for x in args.latency.split("-"))
    pacing = pacing_for((low, high)) if args.margin is None else margin_config(args.margin)
    counts = [int(n) for n in args.instances.split(",")]
    print(
        f"{args.people} people, {args.tap_share:.0%} tap; Bot API latency {low:g}-{high:g} s; "
        f"{pacing.splitlines()[-1]}; "
        f"{os.cpu_count()} cores, load average {load()} at the start",
        flush=True,
    )
    results = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix=f"execbot-inst{count}-") as tmp:
            root = Path(args.keep) / f"instances-{count}" if args.keep else Path(tmp)
            root.mkdir(parents=True, exist_ok=True)
            result = run(root, count, args.people, args.tap_share, (low, high), args.lead, pacing)
        results.append(result)
        print_run(result)
    if len(results) > 1:
        print()
        print(side_by_side(results))


def margin_config(margin: float) -> str:
    return f"[delivery]\nmargin = {margin}\n"


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(
    root: Path,
    count: int,
    people: int,
    tap_share: float,
    latency: tuple[float, float],
    lead: float,
    pacing: str,
) -> dict[str, Any]:
    with cluster(root, clock_start=NUDGE_AT, latency=latency, config_extra=pacing) as c:
        chats = prepare_wave(c, people)
        tappers = set(chats[:: max(1, round(1 / tap_share))]) if tap_share > 0 else set()
        # the shared clock, from now: 07:00 comes ``lead`` seconds after the instances start
        c.clock_start, c.clock_origin = NUDGE_AT - timedelta(seconds=lead), time.monotonic()
        load_before = load()
        started = time.time()
        c.start(count)
        c.wait_ready(timeout=120)
        c.set_webhook()
        ready = time.time()
        wave = Wave(c, chats, tappers)
        wave.until(
            "everyone nudged and every tapper tapped",
            wave.everyone_nudged,
            timeout=lead + 120 + 3 * people / LIMIT,
        )
        c.wait(
            "every inbox row handled",
            lambda: (
                c.scalar("SELECT count(*) FROM inbox WHERE state IN ('pending', 'handling')") == 0
            ),
            timeout=60,
        )
        c.wait(
            "the outbox sent",
            lambda: (
                c.scalar("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')") == 0
            ),
            timeout=60,
        )
        time.sleep(2)  # late duplicates, if any, would show now
        wave.follow()
        counters = c.client.counters()
        calls = c.client.calls()
        cpu = {i.index: process_cpu(i.pid) for i in c.instances if i.pid is not None}
        sandbox_cpu = float(c.client.health().get("cpu_seconds", 0.0))
        load_after = load()
        handoffs = sum(
            len(SENDING_AS.findall(i.proc.log.read_text(errors="replace")))
            for i in c.instances
            if i.proc is not None
        )
        pids = {f":{i.pid}:": i.index for i in c.instances if i.pid is not None}
        handled_by = Counter(
            next((index for pid, index in pids.items() if pid in f"{holder}:"), -1)
            for (holder,) in c.rows("SELECT claimed_by FROM inbox WHERE state = 'done'")
        )
    return summarise(
        count=count,
        people=people,
        wave=wave,
        calls=calls,
        counters=counters,
        started=started,
        ready=ready,
        cpu=cpu,
        sandbox_cpu=sandbox_cpu,
        loads=(load_before, load_after),
        handoffs=handoffs,
        handled_by=handled_by,
    )


def summarise(
    *,
    count: int,
    people: int,
    wave: Wave,
    calls: list[dict[str, Any]],
    counters: dict[str, Any],
    started: float,
    ready: float,
    cpu: dict[int, float],
    sandbox_cpu: float,
    loads: tuple[str, str],
    handoffs: int,
    handled_by: Counter[int],
) -> dict[str, Any]:
    ok = [call for call in calls if call["status"] == 200]
    nudge_times = sorted(
        float(call["time"])
        for call in ok
        if call["method"] == "sendMessage" and NUDGE.search(str(call["params"].get("text", "")))
    )
    paced = sorted(float(call["time"]) for call in ok if call["method"] in PACED)
    first, last = (nudge_times[0], nudge_times[-1]) if nudge_times else (math.nan, math.nan)
    span = paced[-1] - paced[0] if len(paced) > 1 else math.nan
    seconds = Counter(int(t - paced[0]) for t in paced) if paced else Counter()
    during = [t for t in paced if first <= t <= last]  # the wave, not the edits after it
    pauses = [(i + 1, b - a) for i, (a, b) in enumerate(itertools.pairwise(during)) if b - a > GAP]
    gaps = [gap for _, gap in pauses]
    taps = counters.get("tap_to_answer_ms") or {}
    return {
        "instances": count,
        "people": people,
        "wave_s": last - first,
        "first_after_ready_s": first - ready,
        "ready_s": ready - started,
        "nudges": len(nudge_times),
        "missing": sum(1 for chat in wave.chats if not wave.nudges[chat]),
        "duplicates": sum(n - 1 for n in wave.nudges.values() if n > 1),
        "paced": len(paced),
        "mean_rate": (len(paced) - 1) / span if span and span > 0 else math.nan,
        "peak_second": max(seconds.values(), default=0),
        "gaps": (len(gaps), sum(gaps)),
        "pauses": pauses,
        "peak_window": counters["peak_overall_rate"],
        "peak_chat": counters["peak_chat_rate"],
        "429": counters["429"],
        "taps": len(wave.taps),
        "tap_p50": taps.get("p50"),
        "tap_p99": taps.get("p99"),
        "tap_max": taps.get("max"),
        "late": counters["late_callback_answers"],
        "unanswered": counters["unanswered_callback_queries"],
        "handoffs": max(0, handoffs - 1),
        "cpu": cpu,
        "sandbox_cpu": sandbox_cpu,
        "loads": loads,
        "handled_by": handled_by,
    }


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def print_run(r: dict[str, Any]) -> None:
    cpu = ", ".join(f"{v:.1f}" for _, v in sorted(r["cpu"].items()))
    print(
        f"\n{r['instances']} instance(s): ready {r['ready_s']:.1f} s after the start; first "
        f"nudge {r['first_after_ready_s']:+.1f} s from ready\n"
        f"  wave: {r['nudges']} nudges in {r['wave_s']:.1f} s (first to last), missing "
        f"{r['missing']}, duplicates {r['duplicates']}\n"
        f"  messages/s: mean {r['mean_rate']:.1f} ({r['paced']} sends and edits), busiest "
        f"second {r['peak_second']}, sandbox peak {r['peak_window']}/s and "
        f"{r['peak_chat']}/chat; 429s {r['429']}; pauses over {GAP:g} s in the wave: "
        f"{r['gaps'][0]}, {r['gaps'][1]:.1f} s in all (after message: seconds "
        f"{', '.join(f'{n}: {gap:.2f}' for n, gap in r['pauses'])})\n"
        f"  taps: {r['taps']}, tap-to-answer p50 {ms(r['tap_p50'])}, p99 {ms(r['tap_p99'])}, "
        f"max {ms(r['tap_max'])}; late {r['late']}, unanswered {r['unanswered']}\n"
        f"  updates handled by instance {dict(sorted(r['handled_by'].items()))}; "
        f"sender hand-offs {r['handoffs']}; CPU s by instance [{cpu}], sandbox "
        f"{r['sandbox_cpu']:.1f}; load average {r['loads'][0]} -> {r['loads'][1]}",
        flush=True,
    )


def side_by_side(results: list[dict[str, Any]]) -> str:
    """A Markdown table, one column a run; the last row judges the target."""

    def cpu(r: dict[str, Any]) -> str:
        return " + ".join(f"{v:.0f}" for _, v in sorted(r["cpu"].items())) + " s"

    rows: list[tuple[str, Any]] = [
        ("wave, first to last nudge", lambda r: f"{r['wave_s']:.1f} s"),
        ("messages/s, mean", lambda r: f"{r['mean_rate']:.1f}"),
        (
            "messages/s, busiest second (sandbox peak)",
            lambda r: f"{r['peak_second']} ({r['peak_window']})",
        ),
        ("pauses > 0.25 s between messages", lambda r: f"{r['gaps'][0]}, {r['gaps'][1]:.1f} s"),
        ("most to one chat in a second", lambda r: str(r["peak_chat"])),
        ("429s", lambda r: str(r["429"])),
        ("nudges missing / duplicates", lambda r: f"{r['missing']} / {r['duplicates']}"),
        (
            "taps; tap-to-answer p50 / p99",
            lambda r: f"{r['taps']}; {ms(r['tap_p50'])} / {ms(r['tap_p99'])}",
        ),
        ("answers after 15 s / unanswered", lambda r: f"{r['late']} / {r['unanswered']}"),
        ("sender hand-offs", lambda r: str(r["handoffs"])),
        ("CPU, instances", cpu),
        ("load average before -> after", lambda r: f"{r['loads'][0]} -> {r['loads'][1]}"),
    ]
    head = ["figure"] + [
        f"{r['instances']} instance{'s' if r['instances'] > 1 else ''}" for r in results
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, cell in rows:
        lines.append("| " + " | ".join([name] + [cell(r) for r in results]) + " |")
    one, *others = results
    verdicts = []
    for r in others:
        slower = r["wave_s"] > one["wave_s"] * (1 + SLOWER_BY)
        broke = r["429"] > 0 or r["peak_window"] > LIMIT or r["peak_chat"] > 1
        verdicts.append(
            f"{r['instances']} vs {one['instances']}: wave {r['wave_s'] / one['wave_s']:.2f}x"
            + ("  TARGET MISSED (slower)" if slower else "  ok")
            + ("  TARGET MISSED (Telegram's limits)" if broke else "")
        )
    return "\n".join([*lines, "", *verdicts])


if __name__ == "__main__":
    main()
