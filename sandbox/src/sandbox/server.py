"""Running the sandbox: the aiohttp application, an in-process server and ``serve``.

* :func:`make_app` wires the Bot API (:mod:`sandbox.botapi`), the person API
  (:mod:`sandbox.people`, :mod:`sandbox.steering`) and the chat page with its live events
  (:mod:`sandbox.page`) around one :class:`Sandbox`.
* :class:`SandboxServer` is an async context manager for tests and tools that run the
  sandbox inside their own event loop; with ``port=0`` the OS picks a free port.
* :func:`serve` runs it in the foreground until SIGINT/SIGTERM, printing one line with the
  URLs first (``execbot sandbox`` and ``execbot-sandbox``).

Single process, asyncio, everything in memory.  Access logging is off and uploads may be up
to 50 MB (Telegram's limit for bots).  On shutdown, pending long polls are given half a
second before their connections are closed.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Sequence
from types import TracebackType

from aiohttp import web

from sandbox.botapi import BotApi
from sandbox.page import Page
from sandbox.people import People
from sandbox.ratelimit import Limits
from sandbox.state import DEFAULT_TOKEN, Sandbox, check_latency
from sandbox.steering import Steering

__all__ = ["DEFAULT_TOKEN", "Sandbox", "SandboxServer", "make_app", "parse_latency", "serve"]

MAX_UPLOAD = 50 * 1024 * 1024 + 64 * 1024


def make_app(sandbox: Sandbox) -> web.Application:
    """The aiohttp application serving ``sandbox``."""
    app = web.Application(client_max_size=MAX_UPLOAD)
    BotApi(sandbox).add_routes(app)
    People(sandbox).add_routes(app)
    Steering(sandbox).add_routes(app)
    Page(sandbox).add_routes(app)

    async def close(_: web.Application) -> None:
        await sandbox.close()

    app.on_cleanup.append(close)
    return app


class SandboxServer:
    """The sandbox on a local port for the duration of an ``async with`` block."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Sequence[str] = (DEFAULT_TOKEN,),
        limits: bool | Limits = True,
        latency: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.host = host
        self.sandbox = Sandbox(tokens, limits, latency=latency)
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """``http://HOST:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``ApplicationBuilder().base_url()`` / ``Bot(base_url=...)`` wants."""
        return f"{self.url}/bot"

    @property
    def file_base(self) -> str:
        """What ``ApplicationBuilder().base_file_url()`` / ``Bot(base_file_url=...)`` wants."""
        return f"{self.url}/file/bot"

    async def __aenter__(self) -> SandboxServer:
        runner = web.AppRunner(make_app(self.sandbox), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock, backlog=1024).start()
        self._runner = runner
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _serve(
    host: str, port: int, tokens: Sequence[str], limits: bool, latency: tuple[float, float]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with SandboxServer(host, port, tokens, limits, latency) as server:
        print(
            f"execbot sandbox listening on {server.url} "
            f"(bot API base {server.api_base}, limits {'on' if limits else 'off'}, "
            f"latency {latency[0]:g}-{latency[1]:g} s; "
            f"chat page {server.url}/)",
            flush=True,
        )
        await stop.wait()


def parse_latency(text: str) -> tuple[float, float]:
    """``MIN-MAX`` (or one number) in seconds, checked; ValueError says what is wrong."""
    low_text, _, high_text = text.partition("-")
    return check_latency(float(low_text), float(high_text or low_text))


def serve(
    host: str,
    port: int,
    tokens: Sequence[str],
    limits: bool,
    latency: tuple[float, float] = (0.0, 0.0),
) -> None:
    """Run the sandbox until SIGINT or SIGTERM; prints one line with the URL on start."""
    asyncio.run(_serve(host, port, tokens, limits, latency))
