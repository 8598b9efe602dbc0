"""Python clients for the person API (``/sandbox/...``), for tests and scripts.

:class:`SandboxClient` is synchronous (httpx.Client); :class:`AsyncSandboxClient` has the same
methods, returning awaitables (httpx.AsyncClient), and is the one to use inside an event loop
that also runs the sandbox.  Both unwrap ``{"ok": true, "result": ...}`` and raise
:class:`SandboxError` for refusals.  ``bot`` (id, username or token) picks the bot when the
sandbox runs several.  The methods themselves are in :class:`sandbox.calls.Calls`.

    client = SandboxClient("http://127.0.0.1:8081")
    ann = client.create_person("Ann")
    client.send_command(ann["id"], "start")
    client.tap(ann["id"], message_id=2, label="Yes")
    print(client.transcript(ann["id"]))
"""

from __future__ import annotations

from collections.abc import Awaitable
from types import TracebackType
from typing import Any

import httpx

from sandbox.calls import Call, Calls, SandboxError, as_list, unwrap

__all__ = ["AsyncSandboxClient", "SandboxClient", "SandboxError"]

Row = dict[str, Any]


class SandboxClient(Calls[Row, list[Row], str, None]):
    """Synchronous person-API client."""

    def __init__(self, base_url: str, bot: str | int | None = None, timeout: float = 10.0) -> None:
        super().__init__(bot)
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call) -> Any:
        return unwrap(self._http.send(call.request(self._http)))

    def _dict(self, call: Call) -> Row:
        return dict(self._send(call))

    def _list(self, call: Call, key: str | None = None) -> list[Row]:
        return as_list(self._send(call), key)

    def _text(self, call: Call, key: str) -> str:
        return str(self._send(call)[key])

    def _none(self, call: Call) -> None:
        self._send(call)


class AsyncSandboxClient(
    Calls[Awaitable[Row], Awaitable[list[Row]], Awaitable[str], Awaitable[None]]
):
    """Asynchronous person-API client; the same methods as :class:`SandboxClient`, awaited."""

    def __init__(self, base_url: str, bot: str | int | None = None, timeout: float = 10.0) -> None:
        super().__init__(bot)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def __aenter__(self) -> AsyncSandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call) -> Any:
        return unwrap(await self._http.send(call.request(self._http)))

    async def _dict(self, call: Call) -> Row:
        return dict(await self._send(call))

    async def _list(self, call: Call, key: str | None = None) -> list[Row]:
        return as_list(await self._send(call), key)

    async def _text(self, call: Call, key: str) -> str:
        return str((await self._send(call))[key])

    async def _none(self, call: Call) -> None:
        await self._send(call)
