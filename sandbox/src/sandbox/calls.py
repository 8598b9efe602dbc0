"""Every person-API operation once, for both clients (:mod:`sandbox.client`).

:class:`Calls` holds the public methods: each builds the HTTP request (:class:`Call`) and
hands it to the front, which sends it and shapes the unwrapped result.  The synchronous front
returns the result itself, the asynchronous one an awaitable of it: the four type parameters
are what a method returns for a dict, a list, a text and nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

DictResult = TypeVar("DictResult")
ListResult = TypeVar("ListResult")
TextResult = TypeVar("TextResult")
NoResult = TypeVar("NoResult")


class SandboxError(Exception):
    """The person API refused a request."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


@dataclass(frozen=True, slots=True)
class Call:
    """One person-API request."""

    verb: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The request as ``http`` sends it (with its base URL and timeout)."""
        return http.build_request(
            self.verb,
            self.path,
            json=self.json,
            params=self.params,
            data=self.data,
            files=self.files,
        )


def unwrap(response: httpx.Response) -> Any:
    """The ``result`` of an ``{"ok": true, ...}`` answer; :class:`SandboxError` otherwise."""
    try:
        body = response.json()
    except ValueError:
        raise SandboxError(response.status_code, response.text) from None
    if not body.get("ok"):
        raise SandboxError(response.status_code, str(body.get("description")))
    return body["result"]


def as_list(result: Any, key: str | None) -> list[dict[str, Any]]:
    """An unwrapped result (or its ``key``) as a list."""
    return list(result if key is None else result[key])


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _command_text(command: str, args: str) -> str:
    text = command if command.startswith("/") else "/" + command
    return f"{text} {args}" if args else text


class Calls(ABC, Generic[DictResult, ListResult, TextResult, NoResult]):
    """The person-API methods; a front says how a :class:`Call` is sent."""

    def __init__(self, bot: str | int | None) -> None:
        self.bot = bot

    @abstractmethod
    def _dict(self, call: Call) -> DictResult: ...

    @abstractmethod
    def _list(self, call: Call, key: str | None = None) -> ListResult:
        """The result (or its ``key``) as a list."""

    @abstractmethod
    def _text(self, call: Call, key: str) -> TextResult:
        """The result's ``key`` as text."""

    @abstractmethod
    def _none(self, call: Call) -> NoResult: ...

    def _body(self, **values: Any) -> dict[str, Any]:
        """Values plus the chosen bot, without the unset ones (JSON body or query string)."""
        return _drop_none({"bot": self.bot, **values})

    def health(self) -> DictResult:
        return self._dict(Call("GET", "/sandbox/health"))

    def create_person(
        self,
        first_name: str = "Test",
        *,
        id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        bio: str | None = None,
        started: bool = False,
    ) -> DictResult:
        """Create a person; ``started=True`` if they opened the chat earlier (no update).

        By default the chat is not started: the person starts it by messaging the bot.
        """
        body = self._body(
            first_name=first_name,
            id=id,
            last_name=last_name,
            username=username,
            language_code=language_code,
            bio=bio,
            started=started or None,
        )
        return self._dict(Call("POST", "/sandbox/people", json=body))

    def create_people(self, people: list[dict[str, Any]], *, started: bool = False) -> ListResult:
        """Create many people in one request; each dict takes create_person's fields."""
        body = self._body(people=people, started=started or None)
        return self._list(Call("POST", "/sandbox/people/batch", json=body))

    def people(self) -> ListResult:
        return self._list(Call("GET", "/sandbox/people"))

    def create_group(self, title: str, members: list[int], *, id: int | None = None) -> DictResult:
        body = self._body(title=title, members=members, id=id)
        return self._dict(Call("POST", "/sandbox/groups", json=body))

    def _message(
        self, person_id: int, text: str, chat_id: int | None, reply_to: int | None
    ) -> DictResult:
        body = self._body(text=text, chat_id=chat_id, reply_to_message_id=reply_to)
        return self._dict(Call("POST", f"/sandbox/people/{person_id}/messages", json=body))

    def send_text(self, person_id: int, text: str, *, chat_id: int | None = None) -> DictResult:
        """Send ``text`` as the person; returns {"message", "update_id"}."""
        return self._message(person_id, text, chat_id, None)

    def send_command(
        self, person_id: int, command: str, args: str = "", *, chat_id: int | None = None
    ) -> DictResult:
        """Send "/command args" (``send_command(id, "start")`` starts the chat)."""
        return self._message(person_id, _command_text(command, args), chat_id, None)

    def reply_to(
        self, person_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> DictResult:
        return self._message(person_id, text, chat_id, message_id)

    def _file(
        self,
        kind: str,
        person_id: int,
        data: bytes,
        filename: str,
        mime_type: str,
        caption: str | None,
        chat_id: int | None,
    ) -> DictResult:
        body = self._body(caption=caption, chat_id=chat_id)
        fields = {key: str(value) for key, value in body.items()}
        path = f"/sandbox/people/{person_id}/{kind}s"
        files = {"file": (filename, data, mime_type)}
        return self._dict(Call("POST", path, data=fields, files=files))

    def send_photo(
        self,
        person_id: int,
        data: bytes,
        *,
        filename: str = "photo.png",
        mime_type: str = "image/png",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> DictResult:
        return self._file("photo", person_id, data, filename, mime_type, caption, chat_id)

    def send_document(
        self,
        person_id: int,
        data: bytes,
        *,
        filename: str = "document.txt",
        mime_type: str = "",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> DictResult:
        return self._file("document", person_id, data, filename, mime_type, caption, chat_id)

    def tap(
        self,
        person_id: int,
        message_id: int,
        *,
        label: str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
        forge: bool = False,
    ) -> TextResult:
        """Press a callback button by label or data; returns the callback query id.
        ``forge=True``: send ``data`` as a modified client could, whatever the message shows."""
        body = self._body(
            message_id=message_id, label=label, data=data, chat_id=chat_id, forge=forge or None
        )
        call = Call("POST", f"/sandbox/people/{person_id}/taps", json=body)
        return self._text(call, "callback_query_id")

    def tap_latest(
        self, people: list[int], *, label: str | None = None, data: str | None = None
    ) -> DictResult:
        """Each person taps a button (by label or data, else the first callback button) on
        the newest bot message with an inline keyboard in their chat; one request.
        Returns {"tapped": [{person_id, message_id, callback_query_id, update_id}],
        "skipped": [{person_id, reason}]}."""
        body = self._body(people=people, label=label, data=data)
        return self._dict(Call("POST", "/sandbox/taps", json=body))

    def send_texts(self, people: list[int], text: str) -> DictResult:
        """Each person sends ``text`` in their private chat; one request.
        Returns {"sent": [{person_id, message_id, update_id}], "skipped": [...]}."""
        body = self._body(people=people, text=text)
        return self._dict(Call("POST", "/sandbox/messages", json=body))

    def block(self, person_id: int) -> DictResult:
        return self._dict(Call("POST", f"/sandbox/people/{person_id}/block", json=self._body()))

    def unblock(self, person_id: int) -> DictResult:
        return self._dict(Call("POST", f"/sandbox/people/{person_id}/unblock", json=self._body()))

    def transcript(self, chat_id: int) -> ListResult:
        """The chat's entries (messages and callback answers) in order."""
        call = Call("GET", f"/sandbox/chats/{chat_id}/transcript", params=self._body())
        return self._list(call, "entries")

    def calls(
        self, method: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> ListResult:
        query = _drop_none({"method": method, "since": since, "limit": limit})
        return self._list(Call("GET", "/sandbox/calls", params=query))

    def counters(self) -> DictResult:
        return self._dict(Call("GET", "/sandbox/counters"))

    def reset(self) -> NoResult:
        return self._none(Call("POST", "/sandbox/reset"))

    def limits(self) -> DictResult:
        return self._dict(Call("GET", "/sandbox/limits"))

    def set_limits(self, **changes: Any) -> DictResult:
        """Change limits, e.g. ``set_limits(enabled=False)`` or ``set_limits(chat_burst=1)``."""
        return self._dict(Call("POST", "/sandbox/limits", json=changes))

    def add_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        seconds: float | None = None,
        duration: float | None = None,
        chat_id: int | None = None,
    ) -> DictResult:
        """Queue a fault: kind "error" (status 429/500/502), "delay" (seconds) or "drop".
        With ``duration`` (seconds) it hits every matching call for that long: an outage.
        With ``chat_id`` it hits only calls to that chat."""
        spec = {
            "kind": kind,
            "method": method,
            "chat_id": chat_id,
            "count": count,
            "status": status,
            "retry_after": retry_after,
            "seconds": seconds,
            "duration": duration,
        }
        return self._dict(Call("POST", "/sandbox/faults", json=_drop_none(spec)))

    def faults(self) -> ListResult:
        return self._list(Call("GET", "/sandbox/faults"))

    def clear_faults(self) -> NoResult:
        return self._none(Call("DELETE", "/sandbox/faults"))

    def set_latency(self, low: float, high: float) -> DictResult:
        """Every Bot API call waits a random ``low``-``high`` seconds (0, 0: none)."""
        return self._dict(Call("POST", "/sandbox/latency", json={"min": low, "max": high}))
