"""``execbot-sandbox`` / ``python -m sandbox``: run the sandbox until SIGINT or SIGTERM.

The same server as ``execbot sandbox`` (which needs the bot installed too); this one needs
only the sandbox distribution.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from sandbox.server import DEFAULT_TOKEN, parse_latency, serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="execbot-sandbox",
        description="Run the local Bot API sandbox (a strict stand-in for Telegram) until stopped.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0: any free port)")
    parser.add_argument(
        "--token", action="append", help="bot token to accept (repeatable; default: test token)"
    )
    parser.add_argument(
        "--no-limits", action="store_true", help="switch Telegram's rate limits off"
    )
    parser.add_argument(
        "--latency", default="0", help="seconds each Bot API call waits, MIN-MAX (e.g. 0.1-0.3)"
    )
    args = parser.parse_args(argv)
    try:
        latency = parse_latency(args.latency)
    except ValueError as exc:
        parser.error(f"--latency: expected MIN-MAX in seconds such as 0.1-0.3 ({exc})")
    # WARNING: aiohttp's errors only; the sandbox itself logs nothing (its URLs hold tokens)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    serve(args.host, args.port, tuple(args.token or [DEFAULT_TOKEN]), not args.no_limits, latency)


if __name__ == "__main__":
    main()
