"""The HTTP clients under python-telegram-bot: tap answers on their own aiohttp client.

A tap's answer (answerCallbackQuery) must reach Telegram within its 15 s window, whatever the
sender is doing. Through the one shared client it queued for a connection behind the sender's
sends and edits, and it paid httpx's per-request cost: httpcore's pool looks at every idle
connection (a ``poll`` and a ``getpeername`` each) and at every queued request on each request
and response, which in a reply storm took most of the event loop (about 5-10 ms of CPU per
request with 32 connections and a queue, against 0.3-0.4 ms for aiohttp on the same
sandbox, ``bench/reply_storm.py``). So :class:`SplitRequest` sends the answers through an
:class:`AiohttpRequest` with its own connections (aiohttp is a dependency already: the webhook
and operations server), and everything else through python-telegram-bot's ``HTTPXRequest``
as before. Both go through the same ``Bot`` (so the rate limiter and error handling stay).
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

ANSWER_METHODS = frozenset({"answercallbackquery"})  # Bot API method names, lower case
ANSWER_CONNECTIONS = 64  # answers under way at once (Telegram's latency x a storm's rate)


class AiohttpRequest(BaseRequest):
    """A Bot API client on aiohttp for calls without files (form-encoded parameters, as
    python-telegram-bot's ``HTTPXRequest`` sends them). Its own pool of ``connections``."""

    def __init__(
        self,
        connections: int = ANSWER_CONNECTIONS,
        *,
        read_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 10.0,
    ) -> None:
        self.connections = connections
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        if request_data is not None and request_data.contains_files:
            raise ValueError("AiohttpRequest sends no files: use HTTPXRequest for this call")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp's "connect" covers the wait for a free connection and the connecting
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        data = request_data.json_parameters if request_data is not None else None
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # asyncio's, which aiohttp's timeouts are
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


class SplitRequest(BaseRequest):
    """Tap answers through ``answers``, every other call through ``default``: an answer never
    waits for a connection the sends hold, nor pays for their pool."""

    def __init__(self, default: BaseRequest, answers: BaseRequest) -> None:
        self.default, self.answers = default, answers

    @property
    def read_timeout(self) -> float | None:
        return self.default.read_timeout

    async def initialize(self) -> None:
        await self.default.initialize()
        await self.answers.initialize()

    async def shutdown(self) -> None:
        await self.default.shutdown()
        await self.answers.shutdown()

    def route(self, url: str) -> BaseRequest:
        method = url.rsplit("/", 1)[-1].lower()
        return self.answers if method in ANSWER_METHODS else self.default

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        return await self.route(url).do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
