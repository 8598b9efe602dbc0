"""The operator's side of the person API: looking into the sandbox and steering it.

``GET /sandbox/chats/{chat_id}/transcript``: the chat's messages in order with current
text, entities, buttons, edit count, deleted flag, files, plus callback answers shown.
``GET /sandbox/calls?method=&since=&limit=``: the Bot API call log.
``GET /sandbox/counters``; ``POST /sandbox/reset``; ``GET|POST /sandbox/limits``;
``GET|POST|DELETE /sandbox/faults`` (a fault with ``duration`` is a timed outage);
``GET|POST /sandbox/latency`` (``{"min": 0.1, "max": 0.3}``: each Bot API call waits a random
time in that range, as the real one answers in 100-300 ms); ``GET /sandbox/health`` (bots,
people, uptime, ``cpu_seconds`` of the server process for benchmarks, limits).
"""

from __future__ import annotations

import time

from aiohttp import web

from sandbox.state import Sandbox, check_latency
from sandbox.wire import PersonError, add_guarded, int_field, json_body, ok, opt_int, pick_bot


class Steering:
    """aiohttp handlers for health, transcripts, the call log, counters, reset, limits,
    faults and latency."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def add_routes(self, app: web.Application) -> None:
        routes = [
            ("GET", "/sandbox/health", self.health),
            ("GET", "/sandbox/chats/{chat_id}/transcript", self.transcript),
            ("GET", "/sandbox/calls", self.calls),
            ("GET", "/sandbox/counters", self.counters),
            ("POST", "/sandbox/reset", self.reset),
            ("GET", "/sandbox/limits", self.limits),
            ("POST", "/sandbox/limits", self.set_limits),
            ("GET", "/sandbox/faults", self.faults),
            ("POST", "/sandbox/faults", self.add_fault),
            ("DELETE", "/sandbox/faults", self.clear_faults),
            ("GET", "/sandbox/latency", self.latency),
            ("POST", "/sandbox/latency", self.set_latency),
        ]
        add_guarded(app, routes)

    async def health(self, request: web.Request) -> web.Response:
        sandbox = self.sandbox
        return ok(
            {
                "bots": [{"id": bot.id, "username": bot.username} for bot in sandbox.bots.values()],
                "people": len(sandbox.people),
                "uptime": time.time() - sandbox.started_at,
                "cpu_seconds": time.process_time(),
                "limits": sandbox.limiter.limits.as_dict(),
            }
        )

    async def transcript(self, request: web.Request) -> web.Response:
        bot = pick_bot(self.sandbox, request, {})
        chat_id = int_field(request.match_info["chat_id"], "chat id")
        chat = bot.chat(chat_id)
        if chat is None:
            raise PersonError(404, f"no chat {chat_id}")
        return ok(
            {
                "chat": chat.api,
                "started": chat.started,
                "blocked": chat.blocked,
                "entries": chat.transcript(),
            }
        )

    async def calls(self, request: web.Request) -> web.Response:
        query = request.query
        since = opt_int(query.get("since"), "since") or 0
        limit = opt_int(query.get("limit"), "limit")
        return ok(self.sandbox.calls.render(query.get("method") or None, since, limit))

    async def counters(self, request: web.Request) -> web.Response:
        return ok(self.sandbox.counters.as_dict())

    async def reset(self, request: web.Request) -> web.Response:
        self.sandbox.reset()
        return ok(True)

    async def limits(self, request: web.Request) -> web.Response:
        return ok(self.sandbox.limiter.limits.as_dict())

    async def set_limits(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            limits = self.sandbox.limiter.limits.updated(body)
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        self.sandbox.limiter.configure(limits)
        return ok(limits.as_dict())

    async def faults(self, request: web.Request) -> web.Response:
        return ok(self.sandbox.faults.as_list())

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            fault = self.sandbox.faults.add(body)
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        return ok(fault.as_dict())

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sandbox.faults.clear()
        return ok(True)

    async def latency(self, request: web.Request) -> web.Response:
        low, high = self.sandbox.latency
        return ok({"min": low, "max": high})

    async def set_latency(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        low, high = body.get("min", 0.0), body.get("max", body.get("min", 0.0))
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (low, high)):
            raise PersonError(400, "min and max must be numbers of seconds")
        try:
            self.sandbox.latency = check_latency(low, high)
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        return ok({"min": self.sandbox.latency[0], "max": self.sandbox.latency[1]})
