"""The call log and the counters behind ``/sandbox/calls`` and ``/sandbox/counters``.

Every Bot API call with a known token is recorded once, after it is answered, as one tuple
in a bounded deque (the oldest entries fall off past ``size``; 100,000 by default).  The
hot path only appends references (the parameters dict the request produced anyway) and
bumps counters; rendering to JSON happens when someone reads the log.  Uploaded files are
logged as ``{"upload": filename, "size": bytes}`` so the log never holds file contents.

Counters (``GET /sandbox/counters``): ``methods`` (calls per canonical camelCase method
name, or the name as sent for unknown methods), ``statuses`` (calls per HTTP status; 0 is a
connection dropped by a fault), ``429`` (answers with status 429, flood control and faults),
``peak_chat_rate`` / ``peak_chat_rate_chat_id`` / ``peak_overall_rate`` (the highest number
of admitted sends in any 1-second window, see :class:`sandbox.ratelimit.RateMeter`), and
``callback_queries`` / ``answered_callback_queries`` / ``unanswered_callback_queries``.

Tap-to-answer: for every callback query's first answerCallbackQuery, the time since the
person tapped; ``tap_to_answer_ms`` gives ``count``, ``p50``, ``p90``, ``p99`` and ``max`` in
milliseconds (nearest-rank percentiles; ``null`` before the first answer), and
``late_callback_answers`` counts the answers that came after the answer window (15 s, as
Telegram) and were refused with 400 "query is too old ...".  A late answer is not counted
as answered.

``polling_conflicts``: long polls ended with 409 "Conflict: terminated by other getUpdates
request; ..." because another getUpdates came (two pollers on one token).
``webhook_deliveries`` / ``webhook_failures`` / ``webhook_confirmed``: webhook POSTs started,
answered non-2XX or not at all, and accepted (:mod:`sandbox.webhook`).

When the log is read, parameters that Telegram defines as JSON (``reply_markup``,
``commands``, ``entities``, ...) are shown decoded when they arrived as JSON text, so
``calls("setMyCommands")[-1]["params"]["commands"]`` is a list.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, deque
from typing import Any

from sandbox.params import Params, Upload
from sandbox.ratelimit import RateMeter

# (sequence, unix time, bot id, method, params, HTTP status, error description or None)
CallEntry = tuple[int, float, int, str, Params, int, str | None]


class CallLog:
    """Bounded, ordered record of Bot API calls."""

    def __init__(self, size: int = 100_000) -> None:
        self._entries: deque[CallEntry] = deque(maxlen=size)
        self._seq = 0

    def add(self, bot_id: int, method: str, params: Params, status: int, error: str | None) -> None:
        if any(isinstance(value, Upload) for value in params.values()):
            params = {key: _show(value) for key, value in params.items()}
        self._seq += 1
        self._entries.append((self._seq, time.time(), bot_id, method, params, status, error))

    def clear(self) -> None:
        self._entries.clear()

    def render(
        self, method: str | None = None, since: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries with sequence > ``since``, optionally of one method, oldest first."""
        wanted = method.lower() if method else None
        rendered: list[dict[str, Any]] = []
        for seq, at, bot_id, name, params, status, error in self._entries:
            if seq <= since or (wanted is not None and name.lower() != wanted):
                continue
            rendered.append(
                {
                    "seq": seq,
                    "time": at,
                    "bot_id": bot_id,
                    "method": name,
                    "params": {key: _decoded(key, value) for key, value in params.items()},
                    "status": status,
                    "description": error,
                }
            )
        if limit is not None:
            rendered = rendered[-limit:] if limit > 0 else []
        return rendered


JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
    }
)


def _decoded(name: str, value: Any) -> Any:
    """A JSON-typed parameter sent as JSON text, decoded for reading; others unchanged."""
    if name in JSON_PARAMS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _show(value: Any) -> Any:
    if isinstance(value, Upload):
        return {"upload": value.filename, "size": len(value.data)}
    return value


class Counters:
    """Aggregate numbers about the Bot API traffic."""

    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.callbacks_issued = 0
        self.callbacks_answered = 0
        self.late_answers = 0
        self.polling_conflicts = 0
        self.webhook_deliveries = 0
        self.webhook_failures = 0
        self.webhook_confirmed = 0
        self.tap_seconds: list[float] = []
        self.meter = RateMeter()

    def tap_answered(self, waited: float, late: bool) -> None:
        """The first answer to a tap came ``waited`` seconds after it; ``late``: refused."""
        self.tap_seconds.append(waited)
        if late:
            self.late_answers += 1
        else:
            self.callbacks_answered += 1

    def count(self, method: str, status: int) -> None:
        self.methods[method] += 1
        self.statuses[status] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "methods": dict(self.methods),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "429": self.statuses[429],
            "peak_chat_rate": self.meter.peak_chat,
            "peak_chat_rate_chat_id": self.meter.peak_chat_id,
            "peak_overall_rate": self.meter.peak_overall,
            "callback_queries": self.callbacks_issued,
            "answered_callback_queries": self.callbacks_answered,
            "unanswered_callback_queries": self.callbacks_issued - self.callbacks_answered,
            "late_callback_answers": self.late_answers,
            "polling_conflicts": self.polling_conflicts,
            "webhook_deliveries": self.webhook_deliveries,
            "webhook_failures": self.webhook_failures,
            "webhook_confirmed": self.webhook_confirmed,
            "tap_to_answer_ms": latency_summary(self.tap_seconds),
        }


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    """count, p50, p90, p99 and max in milliseconds (nearest rank), None when empty."""
    ordered = sorted(seconds)
    summary: dict[str, Any] = {"count": len(ordered)}
    for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)):
        if not ordered:
            summary[name] = None
            continue
        rank = max(1, math.ceil(fraction * len(ordered)))
        summary[name] = round(ordered[rank - 1] * 1000.0, 1)
    return summary
