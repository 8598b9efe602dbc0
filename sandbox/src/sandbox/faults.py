"""Faults on demand: make the next N Bot API calls fail, stall or vanish.

A fault is added through ``POST /sandbox/faults`` and targets one method (case-insensitive)
or every method (``method`` omitted), and calls to one chat (``chat_id``, matched against the
call's ``chat_id`` parameter) or to any (omitted).  Kinds:

* ``error``: answer with ``status`` 429 (description "Too Many Requests: retry after N",
  ``parameters.retry_after`` = N), 500 ("Internal Server Error") or 502 ("Bad Gateway"),
  always as a JSON error body; the call has no effect;
* ``delay``: wait ``seconds`` and then handle the call normally (to provoke client timeouts);
* ``drop``: close the connection without any response.

Faults are consumed in the order they were added: each call takes one use from the first
fault that matches its method, and a fault disappears after ``count`` uses.  A fault given a
``duration`` (seconds) instead applies to every matching call for that long from when it was
added (a Telegram outage), whatever the count.  Faults apply
after the token is checked and only to known methods; faulted calls appear in the call log
and counters with the status they produced (0 for a dropped connection).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

ERROR_STATUSES = (429, 500, 502)
MAX_DELAY = 600.0
MAX_DURATION = 24 * 3600.0

FaultKind = Literal["error", "delay", "drop"]


@dataclass(slots=True)
class Fault:
    """One queued fault."""

    id: int
    kind: FaultKind
    method: str | None  # lower-case method name, None for every method
    remaining: int
    chat_id: int | None = None  # only calls to this chat, None for every chat
    status: int = 0
    retry_after: int = 0
    seconds: float = 0.0
    until: float | None = None  # monotonic end of a timed fault

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "remaining": self.remaining,
        }
        if self.chat_id is not None:
            data["chat_id"] = self.chat_id
        if self.kind == "error":
            data["status"] = self.status
            if self.status == 429:
                data["retry_after"] = self.retry_after
        elif self.kind == "delay":
            data["seconds"] = self.seconds
        if self.until is not None:
            data["remaining_seconds"] = round(max(self.until - time.monotonic(), 0.0), 3)
        return data


class FaultQueue:
    """Faults in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: dict[str, Any]) -> Fault:
        """Queue a fault from its JSON description; raises ValueError when it is invalid."""
        kind = spec.get("kind")
        method = spec.get("method")
        count = spec.get("count", 1)
        if method is not None and (not isinstance(method, str) or not method):
            raise ValueError("method must be a Bot API method name or omitted for all methods")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        chat_id = spec.get("chat_id")
        if chat_id is not None and (isinstance(chat_id, bool) or not isinstance(chat_id, int)):
            raise ValueError("chat_id must be a chat's id (a whole number) or omitted")
        fault = Fault(self._next_id, "drop", method.lower() if method else None, count, chat_id)
        if kind == "error":
            status = spec.get("status")
            if status not in ERROR_STATUSES:
                raise ValueError("status must be one of 429, 500, 502")
            fault.kind, fault.status = "error", int(status)
            if status == 429:
                retry_after = spec.get("retry_after", 1)
                if isinstance(retry_after, bool) or not isinstance(retry_after, int):
                    raise ValueError("retry_after must be a whole number of seconds")
                if retry_after < 1:
                    raise ValueError("retry_after must be at least 1")
                fault.retry_after = retry_after
        elif kind == "delay":
            seconds = spec.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ValueError("seconds must be a number")
            if not 0 < seconds <= MAX_DELAY:
                raise ValueError(f"seconds must be in (0, {MAX_DELAY:g}]")
            fault.kind, fault.seconds = "delay", float(seconds)
        elif kind != "drop":
            raise ValueError("kind must be one of error, delay, drop")
        duration = spec.get("duration")
        if duration is not None:
            if isinstance(duration, bool) or not isinstance(duration, int | float):
                raise ValueError("duration must be a number of seconds")
            if not 0 < duration <= MAX_DURATION:
                raise ValueError(f"duration must be in (0, {MAX_DURATION:g}]")
            fault.until = time.monotonic() + float(duration)
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def take(self, method: str, chat_id: object = None) -> Fault | None:
        """Use the first fault matching ``method`` (lower-case) and the call's ``chat_id``
        parameter, if any."""
        now = time.monotonic()
        self._faults = [f for f in self._faults if f.until is None or f.until > now]
        for index, fault in enumerate(self._faults):
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            if fault.method is None or fault.method == method:
                if fault.until is not None:
                    return fault
                fault.remaining -= 1
                if fault.remaining == 0:
                    del self._faults[index]
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def as_list(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [f.as_dict() for f in self._faults if f.until is None or f.until > now]
