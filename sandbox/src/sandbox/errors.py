"""Bot API error answers, worded exactly as Telegram words them.

A failed Bot API call answers ``{"ok": false, "error_code": N, "description": "..."}``
(https://core.telegram.org/bots/api#making-requests: "If 'ok' equals False, the error is
explained in the 'description'. An Integer 'error_code' field is also returned, but its
contents are subject to change in the future. Some errors may also have an optional field
'parameters' of the type ResponseParameters").  The sandbox uses N as the HTTP status,
as the real server does.

The real server (tdlib/telegram-bot-api, ``Client::fail_query_with_error``) builds the
description as ``"<Prefix>: <detail>"`` where the prefix comes from the code ("Bad Request",
"Forbidden", "Unauthorized", ...) and the first letter of the detail is lower-cased unless
the detail is an upper-case constant such as ``BUTTON_DATA_INVALID``.  The helpers below do
the same, so every call site passes the detail as the real server's source spells it.

Flood control answers 429 with ``"Too Many Requests: retry after N"`` and
``parameters.retry_after = N`` (https://core.telegram.org/bots/api#responseparameters:
"In case of exceeding flood control, the number of seconds left to wait before the request
can be repeated").
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "Unauthorized"
INVALID_TOKEN = "Unauthorized: invalid token specified"
NOT_FOUND = "Not Found"
INTERNAL_SERVER_ERROR = "Internal Server Error"
BAD_GATEWAY = "Bad Gateway"


class ApiError(Exception):
    """A Bot API failure: HTTP status, Telegram's description and optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _detail(detail: str) -> str:
    """Lower-case the first letter like the real server, keeping CONSTANT_STYLE details."""
    if len(detail) >= 2 and (detail[1] == "_" or detail[1].isupper()):
        return detail
    return detail[:1].lower() + detail[1:]


def bad_request(detail: str) -> ApiError:
    """400 "Bad Request: <detail>"."""
    return ApiError(400, "Bad Request: " + _detail(detail))


def forbidden(detail: str) -> ApiError:
    """403 "Forbidden: <detail>"."""
    return ApiError(403, "Forbidden: " + _detail(detail))


def conflict(description: str) -> ApiError:
    """409 with the full description ("Conflict: ..."), as the real server words it."""
    return ApiError(409, description)


def too_many_requests(retry_after: int) -> ApiError:
    """429 flood-control answer; ``retry_after`` is whole seconds, at least 1."""
    seconds = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})
