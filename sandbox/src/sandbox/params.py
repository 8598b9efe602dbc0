"""Reading Bot API parameters the four ways Telegram accepts them.

https://core.telegram.org/bots/api#making-requests: "We support GET and POST HTTP methods.
We support four ways of passing parameters in Bot API requests: URL query string,
application/x-www-form-urlencoded, application/json (except for uploading files),
multipart/form-data (use to upload files)."

python-telegram-bot 22 (``HTTPXRequest``) posts ``application/x-www-form-urlencoded`` and
switches to ``multipart/form-data`` only when a file is attached; every non-string value
(numbers, booleans, ``reply_markup``, ``allowed_updates``, ...) arrives JSON-encoded inside a
string field.  JSON bodies keep their native types.  Every reader below therefore accepts
both spellings: ``"123"`` and ``123``, ``"true"`` and ``true``, a JSON string and an object.

Conversions follow the real server (tdlib/telegram-bot-api ``Client``):

* integers are read leniently like ``td::to_integer`` (leading digits, otherwise 0);
* booleans are true for "true", "yes" or "1" (``Client::to_bool``);
* ``chat_id`` must be a whole integer, otherwise "chat not found"; empty is "chat_id is empty".

Query-string parameters are merged first and body parameters override them.  Uploaded files
become :class:`Upload` values under their multipart field name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from sandbox.errors import bad_request

Params = dict[str, Any]

_LEADING_INT = re.compile(r"\s*([-+]?\d+)")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


async def read_params(request: web.Request) -> Params:
    """All parameters of a Bot API request, whatever transport carried them."""
    params: Params = {}
    if request.query_string:
        params.update(parse_qsl(request.query_string, keep_blank_values=True))
    if not request.body_exists:
        return params
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = await part.read()
            if part.filename is not None:
                params[part.name] = Upload(
                    part.filename, part.headers.get("Content-Type", ""), bytes(data)
                )
            else:
                params[part.name] = data.decode("utf-8", "replace")
        return params
    body = await request.read()
    if content_type == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(decoded, dict):
            raise bad_request("can't parse JSON object")
        params.update((k, v) for k, v in decoded.items() if v is not None)
        return params
    params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def text_arg(params: Params, name: str) -> str:
    """A string parameter; absent is the empty string, numbers are their decimal text."""
    value = params.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Upload):
        return ""
    return json.dumps(value)


def int_arg(params: Params, name: str, default: int = 0) -> int:
    """An integer parameter read like ``td::to_integer``: leading digits or ``default``."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        match = _LEADING_INT.match(value)
        return int(match.group(1)) if match else 0
    return default


def bool_arg(params: Params, name: str) -> bool:
    """A boolean parameter: true for "true", "yes" or "1", like ``Client::to_bool``."""
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return False


def json_arg(params: Params, name: str, error: str) -> Any:
    """A JSON-valued parameter (object or array); ``None`` when absent or empty.

    ``error`` is the "Bad Request" detail used when the string is not valid JSON.
    """
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None
    return value


def chat_id_arg(params: Params, name: str = "chat_id") -> int:
    """The target chat: an integer id; "chat_id is empty" or "chat not found" otherwise."""
    value = params.get(name)
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, bool):
        raise bad_request("chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise bad_request("chat not found") from None
    raise bad_request("chat not found")
