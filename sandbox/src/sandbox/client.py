"""Python clients for the person API (``/sandbox/...``), for tests and scripts.

:class:`SandboxClient` is synchronous (httpx.Client); :class:`AsyncSandboxClient` has the same
methods as coroutines (httpx.AsyncClient) and is the one to use inside an event loop that also
runs the sandbox.  Both unwrap ``{"ok": true, "result": ...}`` and raise :class:`SandboxError`
for refusals.  ``bot`` (id, username or token) picks the bot when the sandbox runs several.

    client = SandboxClient("http://127.0.0.1:8081")
    ann = client.create_person("Ann")
    client.send_command(ann["id"], "start")
    client.tap(ann["id"], message_id=2, label="Yes")
    print(client.transcript(ann["id"]))
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx


class SandboxError(Exception):
    """The person API refused a request."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


@dataclass(frozen=True, slots=True)
class _Call:
    verb: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


def _unwrap(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        raise SandboxError(response.status_code, response.text) from None
    if not body.get("ok"):
        raise SandboxError(response.status_code, str(body.get("description")))
    return body["result"]


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class _Calls:
    """The request for each person-API operation (shared by both clients)."""

    def __init__(self, bot: str | int | None) -> None:
        self.bot = bot

    def _body(self, **values: Any) -> dict[str, Any]:
        """Values plus the chosen bot, without the unset ones (JSON body or query string)."""
        return _drop_none({"bot": self.bot, **values})

    def health(self) -> _Call:
        return _Call("GET", "/sandbox/health")

    def create_person(self, **values: Any) -> _Call:
        return _Call("POST", "/sandbox/people", json=self._body(**values))

    def people(self) -> _Call:
        return _Call("GET", "/sandbox/people")

    def create_group(self, title: str, members: list[int], group_id: int | None) -> _Call:
        body = self._body(title=title, members=members, id=group_id)
        return _Call("POST", "/sandbox/groups", json=body)

    def send_text(
        self, person_id: int, text: str, chat_id: int | None, reply_to: int | None
    ) -> _Call:
        body = self._body(text=text, chat_id=chat_id, reply_to_message_id=reply_to)
        return _Call("POST", f"/sandbox/people/{person_id}/messages", json=body)

    def send_file(
        self,
        kind: str,
        person_id: int,
        data: bytes,
        filename: str,
        mime_type: str,
        caption: str | None,
        chat_id: int | None,
    ) -> _Call:
        fields = {
            key: str(value) for key, value in self._body(caption=caption, chat_id=chat_id).items()
        }
        return _Call(
            "POST",
            f"/sandbox/people/{person_id}/{kind}s",
            data=fields,
            files={"file": (filename, data, mime_type)},
        )

    def tap(
        self,
        person_id: int,
        message_id: int,
        label: str | None,
        data: str | None,
        chat_id: int | None,
        forge: bool = False,
    ) -> _Call:
        body = self._body(
            message_id=message_id, label=label, data=data, chat_id=chat_id, forge=forge or None
        )
        return _Call("POST", f"/sandbox/people/{person_id}/taps", json=body)

    def block(self, person_id: int, blocked: bool) -> _Call:
        action = "block" if blocked else "unblock"
        return _Call("POST", f"/sandbox/people/{person_id}/{action}", json=self._body())

    def transcript(self, chat_id: int) -> _Call:
        return _Call("GET", f"/sandbox/chats/{chat_id}/transcript", params=self._body())

    def calls(self, method: str | None, since: int | None, limit: int | None) -> _Call:
        query = _drop_none({"method": method, "since": since, "limit": limit})
        return _Call("GET", "/sandbox/calls", params=query)

    def counters(self) -> _Call:
        return _Call("GET", "/sandbox/counters")

    def reset(self) -> _Call:
        return _Call("POST", "/sandbox/reset")

    def limits(self) -> _Call:
        return _Call("GET", "/sandbox/limits")

    def set_limits(self, changes: dict[str, Any]) -> _Call:
        return _Call("POST", "/sandbox/limits", json=changes)

    def faults(self) -> _Call:
        return _Call("GET", "/sandbox/faults")

    def add_fault(self, spec: dict[str, Any]) -> _Call:
        return _Call("POST", "/sandbox/faults", json=_drop_none(spec))

    def clear_faults(self) -> _Call:
        return _Call("DELETE", "/sandbox/faults")

    def set_latency(self, low: float, high: float) -> _Call:
        return _Call("POST", "/sandbox/latency", json={"min": low, "max": high})


def _command_text(command: str, args: str) -> str:
    text = command if command.startswith("/") else "/" + command
    return f"{text} {args}" if args else text


def _fault_spec(
    kind: str,
    method: str | None,
    count: int,
    status: int | None,
    retry_after: int | None,
    seconds: float | None,
    duration: float | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "method": method,
        "count": count,
        "status": status,
        "retry_after": retry_after,
        "seconds": seconds,
        "duration": duration,
    }


class SandboxClient:
    """Synchronous person-API client."""

    def __init__(self, base_url: str, bot: str | int | None = None, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)
        self._calls = _Calls(bot)

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

    def _do(self, call: _Call) -> Any:
        response = self._http.request(
            call.verb,
            call.path,
            json=call.json,
            params=call.params,
            data=call.data,
            files=call.files,
        )
        return _unwrap(response)

    def health(self) -> dict[str, Any]:
        return dict(self._do(self._calls.health()))

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
    ) -> dict[str, Any]:
        """Create a person; ``started=True`` if they opened the chat earlier (no update).

        By default the chat is not started: the person starts it by messaging the bot.
        """
        call = self._calls.create_person(
            first_name=first_name,
            id=id,
            last_name=last_name,
            username=username,
            language_code=language_code,
            bio=bio,
            started=started or None,
        )
        return dict(self._do(call))

    def people(self) -> list[dict[str, Any]]:
        return list(self._do(self._calls.people()))

    def create_group(
        self, title: str, members: list[int], *, id: int | None = None
    ) -> dict[str, Any]:
        return dict(self._do(self._calls.create_group(title, members, id)))

    def send_text(self, person_id: int, text: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """Send ``text`` as the person; returns {"message", "update_id"}."""
        return dict(self._do(self._calls.send_text(person_id, text, chat_id, None)))

    def send_command(
        self, person_id: int, command: str, args: str = "", *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Send "/command args" (``send_command(id, "start")`` starts the chat)."""
        text = _command_text(command, args)
        return dict(self._do(self._calls.send_text(person_id, text, chat_id, None)))

    def reply_to(
        self, person_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        return dict(self._do(self._calls.send_text(person_id, text, chat_id, message_id)))

    def send_photo(
        self,
        person_id: int,
        data: bytes,
        *,
        filename: str = "photo.png",
        mime_type: str = "image/png",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        call = self._calls.send_file(
            "photo", person_id, data, filename, mime_type, caption, chat_id
        )
        return dict(self._do(call))

    def send_document(
        self,
        person_id: int,
        data: bytes,
        *,
        filename: str = "document.txt",
        mime_type: str = "",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        call = self._calls.send_file(
            "document", person_id, data, filename, mime_type, caption, chat_id
        )
        return dict(self._do(call))

    def tap(
        self,
        person_id: int,
        message_id: int,
        *,
        label: str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
        forge: bool = False,
    ) -> str:
        """Press a callback button by label or data; returns the callback query id.
        ``forge=True``: send ``data`` as a modified client could, whatever the message shows."""
        result = self._do(self._calls.tap(person_id, message_id, label, data, chat_id, forge))
        return str(result["callback_query_id"])

    def block(self, person_id: int) -> dict[str, Any]:
        return dict(self._do(self._calls.block(person_id, True)))

    def unblock(self, person_id: int) -> dict[str, Any]:
        return dict(self._do(self._calls.block(person_id, False)))

    def transcript(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's entries (messages and callback answers) in order."""
        return list(self._do(self._calls.transcript(chat_id))["entries"])

    def calls(
        self, method: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return list(self._do(self._calls.calls(method, since, limit)))

    def counters(self) -> dict[str, Any]:
        return dict(self._do(self._calls.counters()))

    def reset(self) -> None:
        self._do(self._calls.reset())

    def limits(self) -> dict[str, Any]:
        return dict(self._do(self._calls.limits()))

    def set_limits(self, **changes: Any) -> dict[str, Any]:
        """Change limits, e.g. ``set_limits(enabled=False)`` or ``set_limits(chat_burst=1)``."""
        return dict(self._do(self._calls.set_limits(changes)))

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
    ) -> dict[str, Any]:
        """Queue a fault: kind "error" (status 429/500/502), "delay" (seconds) or "drop".
        With ``duration`` (seconds) it hits every matching call for that long: an outage."""
        spec = _fault_spec(kind, method, count, status, retry_after, seconds, duration)
        return dict(self._do(self._calls.add_fault(spec)))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._do(self._calls.faults()))

    def clear_faults(self) -> None:
        self._do(self._calls.clear_faults())

    def set_latency(self, low: float, high: float) -> dict[str, Any]:
        """Every Bot API call waits a random ``low``-``high`` seconds (0, 0: none)."""
        return dict(self._do(self._calls.set_latency(low, high)))


class AsyncSandboxClient:
    """Asynchronous person-API client; the same methods as :class:`SandboxClient`."""

    def __init__(self, base_url: str, bot: str | int | None = None, timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._calls = _Calls(bot)

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

    async def _do(self, call: _Call) -> Any:
        response = await self._http.request(
            call.verb,
            call.path,
            json=call.json,
            params=call.params,
            data=call.data,
            files=call.files,
        )
        return _unwrap(response)

    async def health(self) -> dict[str, Any]:
        return dict(await self._do(self._calls.health()))

    async def create_person(
        self,
        first_name: str = "Test",
        *,
        id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        bio: str | None = None,
        started: bool = False,
    ) -> dict[str, Any]:
        call = self._calls.create_person(
            first_name=first_name,
            id=id,
            last_name=last_name,
            username=username,
            language_code=language_code,
            bio=bio,
            started=started or None,
        )
        return dict(await self._do(call))

    async def people(self) -> list[dict[str, Any]]:
        return list(await self._do(self._calls.people()))

    async def create_group(
        self, title: str, members: list[int], *, id: int | None = None
    ) -> dict[str, Any]:
        return dict(await self._do(self._calls.create_group(title, members, id)))

    async def send_text(
        self, person_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        return dict(await self._do(self._calls.send_text(person_id, text, chat_id, None)))

    async def send_command(
        self, person_id: int, command: str, args: str = "", *, chat_id: int | None = None
    ) -> dict[str, Any]:
        text = _command_text(command, args)
        return dict(await self._do(self._calls.send_text(person_id, text, chat_id, None)))

    async def reply_to(
        self, person_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        return dict(await self._do(self._calls.send_text(person_id, text, chat_id, message_id)))

    async def send_photo(
        self,
        person_id: int,
        data: bytes,
        *,
        filename: str = "photo.png",
        mime_type: str = "image/png",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        call = self._calls.send_file(
            "photo", person_id, data, filename, mime_type, caption, chat_id
        )
        return dict(await self._do(call))

    async def send_document(
        self,
        person_id: int,
        data: bytes,
        *,
        filename: str = "document.txt",
        mime_type: str = "",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        call = self._calls.send_file(
            "document", person_id, data, filename, mime_type, caption, chat_id
        )
        return dict(await self._do(call))

    async def tap(
        self,
        person_id: int,
        message_id: int,
        *,
        label: str | None = None,
        data: str | None = None,
        chat_id: int | None = None,
        forge: bool = False,
    ) -> str:
        call = self._calls.tap(person_id, message_id, label, data, chat_id, forge)
        result = await self._do(call)
        return str(result["callback_query_id"])

    async def block(self, person_id: int) -> dict[str, Any]:
        return dict(await self._do(self._calls.block(person_id, True)))

    async def unblock(self, person_id: int) -> dict[str, Any]:
        return dict(await self._do(self._calls.block(person_id, False)))

    async def transcript(self, chat_id: int) -> list[dict[str, Any]]:
        return list((await self._do(self._calls.transcript(chat_id)))["entries"])

    async def calls(
        self, method: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return list(await self._do(self._calls.calls(method, since, limit)))

    async def counters(self) -> dict[str, Any]:
        return dict(await self._do(self._calls.counters()))

    async def reset(self) -> None:
        await self._do(self._calls.reset())

    async def limits(self) -> dict[str, Any]:
        return dict(await self._do(self._calls.limits()))

    async def set_limits(self, **changes: Any) -> dict[str, Any]:
        return dict(await self._do(self._calls.set_limits(changes)))

    async def add_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        seconds: float | None = None,
        duration: float | None = None,
    ) -> dict[str, Any]:
        spec = _fault_spec(kind, method, count, status, retry_after, seconds, duration)
        return dict(await self._do(self._calls.add_fault(spec)))

    async def faults(self) -> list[dict[str, Any]]:
        return list(await self._do(self._calls.faults()))

    async def clear_faults(self) -> None:
        await self._do(self._calls.clear_faults())

    async def set_latency(self, low: float, high: float) -> dict[str, Any]:
        return dict(await self._do(self._calls.set_latency(low, high)))
