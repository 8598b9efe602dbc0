"""The person side: a JSON API under ``/sandbox/`` that plays the humans and the operator.

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "description": "..."}``
with a 4xx status (400 bad input or impossible action, 404 unknown person/chat/message,
409 the person blocked the bot).  Requests that concern one bot take an optional ``bot``
(id, username or token; the first bot by default) in the JSON body or the query string.

People
  ``POST /sandbox/people`` {first_name, id?, last_name?, username?, language_code?,
  bio?, started?}; ``bio`` is the profile text getChat returns (the chat page shows it as
  the person's subtitle); ``started: true`` means the person opened the chat with the bot
  earlier (no update is produced); by default a new person has not started it
  ``GET /sandbox/people``
  ``POST /sandbox/groups`` {title, members: [person ids], id?}  (the bot is in the group and
  gets a my_chat_member update)

Acting as a person (each produces the update Telegram would send and returns it)
  ``POST /sandbox/people/{id}/messages`` {text, chat_id?, reply_to_message_id?}: a
  ``message`` update; commands get ``bot_command`` entities ("/start payload" included).
  The first message a person sends the bot starts the private chat.
  ``POST /sandbox/people/{id}/photos`` and ``.../documents``: multipart with a ``file`` part
  (plus ``caption``, ``chat_id``, ``reply_to_message_id``) or JSON {data (base64), filename,
  mime_type?, caption?, chat_id?}; the file is stored and reachable through getFile.
  ``POST /sandbox/people/{id}/taps`` {message_id, label? | data?, chat_id?, forge?}: a
  ``callback_query`` update for a callback button on the message's current keyboard;
  a button that is not there is a 400.  ``forge: true`` with ``data`` is a forged button, as
  a modified client could send: the data (1-64 bytes) goes out as is, for any live message
  of the chat, keyboard or not.
  ``POST /sandbox/people/{id}/block`` and ``.../unblock``: a ``my_chat_member`` update
  (member -> kicked and back), as Telegram sends for private chats.

Inspecting and steering
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

import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.images import image_size
from sandbox.markup import MAX_CALLBACK_DATA
from sandbox.state import (
    Bot,
    CallbackQuery,
    Chat,
    FileKind,
    Message,
    Person,
    Sandbox,
    StoredFile,
    check_latency,
)
from sandbox.text import TEXT_LIMIT, bot_command_entities

JSON_TYPE = "application/json"


class PersonError(Exception):
    """A refused person-API request."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _ok(result: Any) -> web.Response:
    return web.Response(
        body=json.dumps({"ok": True, "result": result}).encode(), content_type=JSON_TYPE
    )


def _opt_int(value: Any, name: str) -> int | None:
    """An optional integer field (JSON number or decimal text)."""
    if value is None or value == "":
        return None
    return _int(value, name)


def _int(value: Any, name: str) -> int:
    """A required integer field (JSON number or decimal text)."""
    if value is None or value == "":
        raise PersonError(400, f"{name} is required")
    if isinstance(value, bool):
        raise PersonError(400, f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PersonError(400, f"{name} must be an integer") from None


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PersonError(400, f"{name} must be a string")
    return value


# --- actions -------------------------------------------------------------------------------


def _chat_instance(bot: Bot, chat: Chat) -> str:
    return str((bot.id * 1_000_003 + chat.id) & 0x7FFFFFFFFFFFFFFF)


def _person_chat(bot: Bot, person: Person, chat_id: int | None) -> Chat:
    """The chat the person acts in: their private chat, or a group they belong to."""
    if chat_id is None or chat_id == person.id:
        chat = bot.chat(person.id)
        assert chat is not None
        if chat.blocked:
            raise PersonError(409, f"person {person.id} has blocked the bot; unblock first")
        return chat
    chat = bot.chats.get(chat_id)
    if chat is None or not chat.is_group:
        raise PersonError(404, f"no group {chat_id}")
    if person.id not in chat.members:
        raise PersonError(400, f"person {person.id} is not a member of group {chat_id}")
    return chat


def _message_in(chat: Chat, message_id: int) -> Message:
    message = chat.live_message(message_id)
    if message is None:
        raise PersonError(404, f"no message {message_id} in chat {chat.id} (or it was deleted)")
    return message


def post_message(
    sandbox: Sandbox,
    bot: Bot,
    person: Person,
    chat_id: int | None,
    text: str | None = None,
    file: StoredFile | None = None,
    caption: str | None = None,
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    """The person sends a message; returns the update the bot receives."""
    chat = _person_chat(bot, person, chat_id)
    reply_to = _message_in(chat, reply_to_message_id) if reply_to_message_id else None
    message = Message(
        chat.new_message_id(),
        chat,
        person,
        person.user,
        sandbox.now(),
        text=text,
        entities=bot_command_entities(text) if text else [],
        caption=caption or None,
        caption_entities=bot_command_entities(caption) if caption else [],
        file=file,
        reply_to=reply_to,
    )
    chat.add_message(message)
    chat.started = True
    update = bot.updates.push("message", message.to_api())
    sandbox.events.publish(
        "message",
        bot_id=bot.id,
        chat_id=chat.id,
        message_id=message.message_id,
        sender="person",
        person_id=person.id,
    )
    return {"message": message.to_api(), "update_id": update["update_id"] if update else None}


def tap(
    sandbox: Sandbox,
    bot: Bot,
    person: Person,
    chat_id: int | None,
    message_id: int,
    label: str | None,
    data: str | None,
    forge: bool = False,
) -> dict[str, Any]:
    """The person presses a callback button on the message's current inline keyboard.
    ``forge``: a forged button, as a modified client could send: ``data`` goes to the bot as
    is, for any live message of the chat, whatever its keyboard shows."""
    if forge:
        if label is not None or data is None:
            raise PersonError(400, "a forged tap takes data and no label")
        if not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise PersonError(400, f"callback data must be 1-{MAX_CALLBACK_DATA} bytes")
        chat = _person_chat(bot, person, chat_id)
        return _callback(sandbox, bot, person, chat, _message_in(chat, message_id), data)
    if label is None and data is None:
        raise PersonError(400, "give the button's label or its callback data")
    chat = _person_chat(bot, person, chat_id)
    message = _message_in(chat, message_id)
    markup = message.inline
    if markup is None:
        raise PersonError(400, f"message {message_id} has no inline keyboard")
    buttons = [button for row in markup.inline_rows for button in row]
    matches = [
        button
        for button in buttons
        if (label is None or button["text"] == label)
        and (data is None or button.get("callback_data") == data)
    ]
    if not matches:
        shown = [button["text"] for button in buttons]
        wanted = f"label {label!r}" if label is not None else f"data {data!r}"
        raise PersonError(400, f"no button with {wanted} on message {message_id}; buttons: {shown}")
    button = matches[0]
    callback_data = button.get("callback_data")
    if not isinstance(callback_data, str):
        raise PersonError(
            400, f"button {button['text']!r} sends nothing to the bot (no callback_data)"
        )
    return _callback(sandbox, bot, person, chat, message, callback_data)


def _callback(
    sandbox: Sandbox, bot: Bot, person: Person, chat: Chat, message: Message, callback_data: str
) -> dict[str, Any]:
    """The ``callback_query`` update of a tap."""
    query = CallbackQuery(sandbox.new_callback_id(), person, chat, message, callback_data)
    bot.callback_queries[query.id] = query
    sandbox.counters.callbacks_issued += 1
    update = bot.updates.push(
        "callback_query",
        {
            "id": query.id,
            "from": person.user,
            "message": message.to_api(),
            "chat_instance": _chat_instance(bot, chat),
            "data": callback_data,
        },
    )
    return {"callback_query_id": query.id, "update_id": update["update_id"] if update else None}


def _member_update(
    sandbox: Sandbox, bot: Bot, chat: Chat, actor: Person, old: str, new: str
) -> dict[str, Any] | None:
    new_member: dict[str, Any] = {"user": bot.user, "status": new}
    if new == "kicked":
        new_member["until_date"] = 0
    old_member: dict[str, Any] = {"user": bot.user, "status": old}
    if old == "kicked":
        old_member["until_date"] = 0
    return bot.updates.push(
        "my_chat_member",
        {
            "chat": chat.api,
            "from": actor.user,
            "date": sandbox.now(),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        },
    )


def set_blocked(sandbox: Sandbox, bot: Bot, person: Person, blocked: bool) -> dict[str, Any]:
    """Block or unblock the bot; a change produces Telegram's my_chat_member update."""
    chat = bot.chat(person.id)
    assert chat is not None
    if chat.blocked == blocked:
        return {"changed": False, "update_id": None}
    chat.blocked = blocked
    sandbox.events.publish("chat", bot_id=bot.id, chat_id=chat.id, blocked=blocked)
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    update = _member_update(sandbox, bot, chat, person, old, new)
    return {"changed": True, "update_id": update["update_id"] if update else None}


# --- HTTP ----------------------------------------------------------------------------------


class People:
    """aiohttp handlers for ``/sandbox/...``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def add_routes(self, app: web.Application) -> None:
        routes = [
            ("GET", "/sandbox/health", self.health),
            ("POST", "/sandbox/people", self.create_person),
            ("GET", "/sandbox/people", self.list_people),
            ("POST", "/sandbox/groups", self.create_group),
            ("POST", "/sandbox/people/{person_id}/messages", self.message),
            ("POST", "/sandbox/people/{person_id}/photos", self.photo),
            ("POST", "/sandbox/people/{person_id}/documents", self.document),
            ("POST", "/sandbox/people/{person_id}/taps", self.tap),
            ("POST", "/sandbox/people/{person_id}/block", self.block),
            ("POST", "/sandbox/people/{person_id}/unblock", self.unblock),
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
        for verb, path, handler in routes:
            app.router.add_route(verb, path, _guarded(handler))

    # helpers

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise PersonError(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise PersonError(400, "the body must be a JSON object")
        return body

    def _bot(self, request: web.Request, body: dict[str, Any]) -> Bot:
        selector = body.get("bot", request.query.get("bot"))
        try:
            return self.sandbox.bot(selector)
        except KeyError as error:
            raise PersonError(404, str(error.args[0])) from None

    def _person(self, request: web.Request) -> Person:
        person_id = _int(request.match_info["person_id"], "person id")
        person = self.sandbox.people.get(person_id)
        if person is None:
            raise PersonError(404, f"no person {person_id}")
        return person

    # people

    async def health(self, request: web.Request) -> web.Response:
        sandbox = self.sandbox
        return _ok(
            {
                "bots": [{"id": bot.id, "username": bot.username} for bot in sandbox.bots.values()],
                "people": len(sandbox.people),
                "uptime": time.time() - sandbox.started_at,
                "cpu_seconds": time.process_time(),
                "limits": sandbox.limiter.limits.as_dict(),
            }
        )

    async def create_person(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        first_name = body.get("first_name", "Test")
        if not isinstance(first_name, str) or not first_name:
            raise PersonError(400, "first_name must be a non-empty string")
        try:
            person = self.sandbox.add_person(
                first_name,
                _opt_int(body.get("id"), "id"),
                _optional_str(body, "last_name"),
                _optional_str(body, "username"),
                _optional_str(body, "language_code"),
                _optional_str(body, "bio"),
            )
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        started = body.get("started", False)
        if not isinstance(started, bool):
            raise PersonError(400, "started must be true or false")
        if started:
            chat = self._bot(request, body).chat(person.id)
            assert chat is not None
            chat.started = True
        return _ok(person.as_dict())

    async def list_people(self, request: web.Request) -> web.Response:
        return _ok([person.as_dict() for person in self.sandbox.people.values()])

    async def create_group(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bot = self._bot(request, body)
        title = body.get("title")
        members = body.get("members", [])
        if not isinstance(title, str) or not title:
            raise PersonError(400, "title must be a non-empty string")
        if not isinstance(members, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in members
        ):
            raise PersonError(400, "members must be a list of person ids")
        try:
            chat = self.sandbox.add_group(bot, title, members, _opt_int(body.get("id"), "id"))
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        if members:
            adder = self.sandbox.people[members[0]]
            _member_update(self.sandbox, bot, chat, adder, "left", "member")
        self.sandbox.events.publish("chat", bot_id=bot.id, chat_id=chat.id)
        return _ok(chat.api)

    # acting as a person

    async def message(self, request: web.Request) -> web.Response:
        person = self._person(request)
        body = await self._body(request)
        bot = self._bot(request, body)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PersonError(400, "text must be a non-empty string")
        if len(text) > TEXT_LIMIT:
            raise PersonError(400, f"text is longer than {TEXT_LIMIT} characters")
        return _ok(
            post_message(
                self.sandbox,
                bot,
                person,
                _opt_int(body.get("chat_id"), "chat_id"),
                text=text,
                reply_to_message_id=_opt_int(body.get("reply_to_message_id"), "reply_to"),
            )
        )

    async def photo(self, request: web.Request) -> web.Response:
        return await self._upload(request, "photo")

    async def document(self, request: web.Request) -> web.Response:
        return await self._upload(request, "document")

    async def _upload(self, request: web.Request, kind: FileKind) -> web.Response:
        person = self._person(request)
        fields, data, filename, mime_type = await self._file_body(request)
        bot = self._bot(request, fields)
        width = height = 0
        if kind == "photo":
            size = image_size(data)
            if size is None:
                raise PersonError(400, "the photo is not a PNG, JPEG, GIF, WebP or BMP image")
            width, height = size
        caption = fields.get("caption")
        if caption is not None and not isinstance(caption, str):
            raise PersonError(400, "caption must be a string")
        chat_id = _opt_int(fields.get("chat_id"), "chat_id")
        reply_to = _opt_int(fields.get("reply_to_message_id"), "reply_to_message_id")
        _person_chat(bot, person, chat_id)
        stored = self.sandbox.store_file(kind, data, filename, mime_type, width, height)
        posted = post_message(
            self.sandbox,
            bot,
            person,
            chat_id,
            file=stored,
            caption=caption,
            reply_to_message_id=reply_to,
        )
        return _ok(posted)

    async def _file_body(self, request: web.Request) -> tuple[dict[str, Any], bytes, str, str]:
        """(other fields, file bytes, file name, mime type) from multipart or base64 JSON."""
        if request.content_type == "multipart/form-data":
            fields: dict[str, Any] = {}
            upload: tuple[bytes, str, str] | None = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                content = bytes(await part.read())
                if part.filename is not None:
                    upload = (content, part.filename, part.headers.get("Content-Type", ""))
                else:
                    fields[part.name] = content.decode("utf-8", "replace")
            if upload is None:
                raise PersonError(400, "the multipart body has no file part")
            data, filename, mime_type = upload
        else:
            fields = await self._body(request)
            encoded = fields.get("data")
            if not isinstance(encoded, str):
                raise PersonError(400, "data (base64) is required")
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise PersonError(400, "data is not valid base64") from None
            filename = fields.get("filename") or "file"
            mime_type = fields.get("mime_type") or ""
            if not isinstance(filename, str) or not isinstance(mime_type, str):
                raise PersonError(400, "filename and mime_type must be strings")
        if not data:
            raise PersonError(400, "the file is empty")
        return fields, data, filename, mime_type

    async def tap(self, request: web.Request) -> web.Response:
        person = self._person(request)
        body = await self._body(request)
        bot = self._bot(request, body)
        message_id = _int(body.get("message_id"), "message_id")
        label = _optional_str(body, "label")
        data = _optional_str(body, "data")
        chat_id = _opt_int(body.get("chat_id"), "chat_id")
        forge = body.get("forge", False)
        if not isinstance(forge, bool):
            raise PersonError(400, "forge must be true or false")
        return _ok(tap(self.sandbox, bot, person, chat_id, message_id, label, data, forge))

    async def block(self, request: web.Request) -> web.Response:
        person = self._person(request)
        bot = self._bot(request, await self._body(request))
        return _ok(set_blocked(self.sandbox, bot, person, True))

    async def unblock(self, request: web.Request) -> web.Response:
        person = self._person(request)
        bot = self._bot(request, await self._body(request))
        return _ok(set_blocked(self.sandbox, bot, person, False))

    # inspecting and steering

    async def transcript(self, request: web.Request) -> web.Response:
        bot = self._bot(request, {})
        chat_id = _int(request.match_info["chat_id"], "chat id")
        chat = bot.chat(chat_id)
        if chat is None:
            raise PersonError(404, f"no chat {chat_id}")
        return _ok(
            {
                "chat": chat.api,
                "started": chat.started,
                "blocked": chat.blocked,
                "entries": chat.transcript(),
            }
        )

    async def calls(self, request: web.Request) -> web.Response:
        query = request.query
        since = _opt_int(query.get("since"), "since") or 0
        limit = _opt_int(query.get("limit"), "limit")
        return _ok(self.sandbox.calls.render(query.get("method") or None, since, limit))

    async def counters(self, request: web.Request) -> web.Response:
        return _ok(self.sandbox.counters.as_dict())

    async def reset(self, request: web.Request) -> web.Response:
        self.sandbox.reset()
        return _ok(True)

    async def limits(self, request: web.Request) -> web.Response:
        return _ok(self.sandbox.limiter.limits.as_dict())

    async def set_limits(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            limits = self.sandbox.limiter.limits.updated(body)
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        self.sandbox.limiter.configure(limits)
        return _ok(limits.as_dict())

    async def faults(self, request: web.Request) -> web.Response:
        return _ok(self.sandbox.faults.as_list())

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            fault = self.sandbox.faults.add(body)
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        return _ok(fault.as_dict())

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sandbox.faults.clear()
        return _ok(True)

    async def latency(self, request: web.Request) -> web.Response:
        low, high = self.sandbox.latency
        return _ok({"min": low, "max": high})

    async def set_latency(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        low, high = body.get("min", 0.0), body.get("max", body.get("min", 0.0))
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (low, high)):
            raise PersonError(400, "min and max must be numbers of seconds")
        try:
            self.sandbox.latency = check_latency(low, high)
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        return _ok({"min": self.sandbox.latency[0], "max": self.sandbox.latency[1]})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Handler) -> Handler:
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
