"""Throughput of the sandbox's Bot API: sendMessage over keep-alive HTTP.

Starts the sandbox in its own process (``sandbox.server.serve``, limits off), creates and
starts ``--people`` people through the person API, then sends ``--requests`` sendMessage
calls (form-encoded, as python-telegram-bot sends them) over ``--concurrency`` keep-alive
connections, spread round-robin over the people.  The connections are split over
``--pools`` httpx.AsyncClient instances because one httpx pool slows down sharply with many
connections; the bodies are encoded before the clock starts.  Prints
requests per second, p50/p99 latency and the CPU time the server process spent.  httpx
needs several times more CPU per request than the sandbox, so on a small machine the wall
clock figure is bound by the client; "requests per server CPU-second" is the sandbox's
single-core capacity.

The run is bounded: a fixed number of requests and a hard ``--deadline`` in seconds; the
server process is always terminated.

    .venv/bin/python bench/sandbox_throughput.py --requests 10000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlencode

import httpx

SERVER_CODE = (
    "from sandbox.server import serve, DEFAULT_TOKEN; serve('127.0.0.1', 0, [DEFAULT_TOKEN], False)"
)


def start_server() -> tuple[subprocess.Popen[str], str]:
    """Run the sandbox in a child process; returns it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise RuntimeError(f"the sandbox did not start: {line!r}")
    url = line.split("listening on ", 1)[1].split()[0]
    return process, url


async def server_cpu(client: httpx.AsyncClient) -> float:
    response = await client.get("/sandbox/health")
    return float(response.json()["result"]["cpu_seconds"])


async def run(url: str, requests: int, concurrency: int, people: int, pools: int) -> dict[str, Any]:
    from sandbox.state import DEFAULT_TOKEN

    per_pool = max(1, concurrency // pools)
    limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) for _ in range(pools)]
    try:
        control = clients[0]
        ids: list[int] = []
        for index in range(people):
            created = await control.post("/sandbox/people", json={"first_name": f"P{index}"})
            person_id = created.json()["result"]["id"]
            await control.post(f"/sandbox/people/{person_id}/messages", json={"text": "/start"})
            ids.append(person_id)
        path = f"/bot{DEFAULT_TOKEN}/sendMessage"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        bodies = [
            urlencode({"chat_id": ids[index % len(ids)], "text": f"message {index}"}).encode()
            for index in range(requests)
        ]
        latencies: list[float] = []
        errors = 0
        next_index = 0

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal next_index, errors
            while next_index < requests:
                body = bodies[next_index]
                next_index += 1
                began = time.perf_counter()
                response = await client.post(path, content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    errors += 1

        warmup = bodies[: min(200, requests)]
        await asyncio.gather(
            *(
                clients[i % pools].post(path, content=body, headers=headers)
                for i, body in enumerate(warmup)
            )
        )
        cpu_before = await server_cpu(control)
        began = time.perf_counter()
        await asyncio.gather(*(worker(clients[i % pools]) for i in range(per_pool * pools)))
        elapsed = time.perf_counter() - began
        cpu_used = await server_cpu(control) - cpu_before
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "server_cpu_s": cpu_used,
        "server_rps_per_cpu_s": len(latencies) / cpu_used if cpu_used > 0 else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument(
        "--pools", type=int, default=8, help="httpx clients sharing the connections"
    )
    parser.add_argument("--deadline", type=float, default=120.0, help="hard stop, seconds")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the server
    process, url = start_server()
    try:
        result = asyncio.run(
            asyncio.wait_for(
                run(url, options.requests, options.concurrency, options.people, options.pools),
                options.deadline,
            )
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
    print(
        f"sendMessage x{result['requests']} ({result['errors']} errors), "
        f"concurrency {options.concurrency}: {result['rps']:.0f} requests/s, "
        f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms; "
        f"server CPU {result['server_cpu_s']:.2f} s = "
        f"{result['server_rps_per_cpu_s']:.0f} requests per CPU-second"
    )


if __name__ == "__main__":
    main()
