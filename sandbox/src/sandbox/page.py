"""The chat page and what it needs: static files, live change events and file bytes.

``GET /`` serves ``sandbox/web/index.html``; ``GET /web/{name}`` the page's CSS and
JavaScript (plain files, no build step).  The page plays any person through the person API
(:mod:`sandbox.people`) and draws their chat from the transcript.

Live updates
  ``GET /sandbox/events``: Server-Sent Events, one ``data:`` line of JSON per change (see
  :mod:`sandbox.events`), each with an ``id:`` so a reconnecting ``EventSource`` resumes
  with ``Last-Event-ID`` (or ``?since=N``); a comment line every 15 s keeps proxies from
  closing an idle stream.  The first event on a stream is ``hello`` with the newest id.
  ``GET /sandbox/events/poll?since=N&timeout=S``: the long-polling fallback; answers
  ``{"ok": true, "result": {"events": [...], "last_id": N}}`` as soon as there is an event
  after ``since`` or after ``timeout`` seconds (at most 60, default 25).

Clock
  ``GET /sandbox/clock``: the clock the page shows times in: null for the wall clock, or what
  ``POST /sandbox/clock`` set (``execbot demo`` does, for the bot's virtual clock):
  ``{"start": "2026-11-24T05:59:00+01:00", "speed": 1, "timezone": "Europe/Berlin",
  "note": "..."}`` means the virtual clock reads ``start`` now and runs ``speed`` times as fast;
  the answer adds ``origin`` and ``start_epoch`` (Unix seconds of the wall and virtual start).

Files
  ``GET /sandbox/files/{file_id}``: the bytes of a stored photo or document with its mime
  type (what the page's ``<img>`` shows); 404 for an unknown id.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from sandbox.events import Event
from sandbox.state import Sandbox
from sandbox.wire import PersonError, guarded, ok

WEB_DIR = Path(__file__).resolve().parent / "web"
KEEPALIVE = 15.0
MAX_POLL = 60.0
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".html": "text/html"}


def _sse(event: Event) -> bytes:
    return f"id: {event['id']}\ndata: {json.dumps(event)}\n\n".encode()


def _number(text: str | None, name: str, default: float = 0) -> float:
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        raise PersonError(400, f"{name} must be a number") from None


def _clock(body: Any) -> dict[str, Any]:
    """A page clock from ``POST /sandbox/clock``'s body; PersonError (400) says what is wrong."""
    if not isinstance(body, dict):
        raise PersonError(400, "the body must be a JSON object or null")
    try:
        start = datetime.fromisoformat(str(body.get("start")))
    except ValueError:
        raise PersonError(400, "start must be an ISO date and time with an offset") from None
    if start.tzinfo is None:
        raise PersonError(400, "start must be an ISO date and time with an offset")
    speed = body.get("speed", 1)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed <= 10_000:
        raise PersonError(400, "speed must be a number in (0, 10000]")
    zone, note = body.get("timezone", "UTC"), body.get("note", "")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise PersonError(400, f"unknown timezone {zone!r}") from None
    if not isinstance(note, str) or len(note) > 500:
        raise PersonError(400, "note must be text of at most 500 characters")
    return {
        "start": start.isoformat(),
        "speed": speed,
        "timezone": str(zone),
        "note": note,
        "origin": time.time(),
        "start_epoch": start.timestamp(),
    }


class Page:
    """aiohttp handlers for the page, the event stream, the long poll and file bytes."""

    def __init__(self, sandbox: Sandbox, web_dir: Path = WEB_DIR) -> None:
        self.sandbox = sandbox
        self.web_dir = web_dir
        self.clock: dict[str, Any] | None = None  # None: the page shows wall-clock times

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_get("/web/{name}", self.static)
        app.router.add_get("/sandbox/events", guarded(self.events))
        app.router.add_get("/sandbox/events/poll", guarded(self.poll))
        app.router.add_get("/sandbox/files/{file_id}", guarded(self.file))
        app.router.add_get("/sandbox/clock", guarded(self.get_clock))
        app.router.add_post("/sandbox/clock", guarded(self.set_clock))

        async def end_streams(_: web.Application) -> None:
            self.sandbox.events.close()

        app.on_shutdown.append(end_streams)

    async def index(self, request: web.Request) -> web.StreamResponse:
        return self._file("index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return self._file(request.match_info["name"])

    def _file(self, name: str) -> web.StreamResponse:
        path = self.web_dir / name
        kind = STATIC_TYPES.get(path.suffix)
        if "/" in name or name.startswith(".") or kind is None or not path.is_file():
            raise web.HTTPNotFound(text="not found")
        return web.Response(
            body=path.read_bytes(),
            content_type=kind,
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        hub = self.sandbox.events
        since = request.headers.get("Last-Event-ID") or request.query.get("since")
        backlog = hub.since(int(_number(since, "since"))) if since else []
        subscription = hub.subscribe()
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        try:
            await response.prepare(request)
            await response.write(b"retry: 1000\n" + _sse({"id": hub.last_id, "type": "hello"}))
            for event in backlog:
                await response.write(_sse(event))
            while not hub.closed:
                news = await subscription.next(KEEPALIVE)
                if news is None:
                    if hub.closed:
                        break
                    await response.write(b": keep-alive\n\n")
                else:
                    await response.write(_sse(news))
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            hub.unsubscribe(subscription)
        return response

    async def poll(self, request: web.Request) -> web.Response:
        since = int(_number(request.query.get("since"), "since"))
        timeout = min(max(_number(request.query.get("timeout"), "timeout", 25), 0), MAX_POLL)
        events = await self.sandbox.events.wait_after(since, timeout)
        return ok({"events": events, "last_id": self.sandbox.events.last_id})

    async def get_clock(self, request: web.Request) -> web.Response:
        return ok(self.clock)

    async def set_clock(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.body_exists else None  # none: wall clock
        except ValueError:
            raise PersonError(400, "the body must be a JSON object") from None
        self.clock = None if body is None else _clock(body)
        return ok(self.clock)

    async def file(self, request: web.Request) -> web.Response:
        stored = self.sandbox.files.get(request.match_info["file_id"])
        if stored is None:
            raise PersonError(404, f"no file {request.match_info['file_id']}")
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=3600"},
        )
