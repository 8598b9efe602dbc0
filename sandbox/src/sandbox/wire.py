"""The person API's JSON plumbing, shared by :mod:`sandbox.people`, :mod:`sandbox.steering`
and :mod:`sandbox.page`: reading fields, picking the bot, answering, refusing.

Every answer is ``{"ok": true, "result": ...}`` (:func:`ok`) or ``{"ok": false,
"description": "..."}`` with a 4xx status (:class:`PersonError`, turned into that answer by
:func:`guarded`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from sandbox.state import Bot, Sandbox

JSON_TYPE = "application/json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PersonError(Exception):
    """A refused person-API request."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def ok(result: Any) -> web.Response:
    return web.Response(
        body=json.dumps({"ok": True, "result": result}).encode(), content_type=JSON_TYPE
    )


def guarded(handler: Handler) -> Handler:
    """Turn :class:`PersonError` into the JSON error answer."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except PersonError as error:
            return web.Response(
                body=json.dumps({"ok": False, "description": error.description}).encode(),
                status=error.status,
                content_type=JSON_TYPE,
            )

    return guarded


def add_guarded(app: web.Application, routes: Sequence[tuple[str, str, Handler]]) -> None:
    """Add (verb, path, handler) routes, each :func:`guarded`."""
    for verb, path, handler in routes:
        app.router.add_route(verb, path, guarded(handler))


def opt_int(value: Any, name: str) -> int | None:
    """An optional integer field (JSON number or decimal text)."""
    if value is None or value == "":
        return None
    return int_field(value, name)


def int_field(value: Any, name: str) -> int:
    """A required integer field (JSON number or decimal text)."""
    if value is None or value == "":
        raise PersonError(400, f"{name} is required")
    if isinstance(value, bool):
        raise PersonError(400, f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PersonError(400, f"{name} must be an integer") from None


def optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PersonError(400, f"{name} must be a string")
    return value


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} without a body)."""
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise PersonError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise PersonError(400, "the body must be a JSON object")
    return body


def pick_bot(sandbox: Sandbox, request: web.Request, body: dict[str, Any]) -> Bot:
    """The bot ``bot`` names in the body or the query string (the first bot by default)."""
    selector = body.get("bot", request.query.get("bot"))
    try:
        return sandbox.bot(selector)
    except KeyError as error:
        raise PersonError(404, str(error.args[0])) from None
