"""The person side: a JSON API under ``/sandbox/`` that plays the humans and the operator.

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "description": "..."}``
with a 4xx status (400 bad input or impossible action, 404 unknown person/chat/message,
409 the person blocked the bot; :mod:`sandbox.wire`).  Requests that concern one bot take an
optional ``bot`` (id, username or token; the first bot by default) in the JSON body or the
query string.

People
  ``POST /sandbox/people`` {first_name, id?, last_name?, username?, language_code?,
  bio?, started?}; ``bio`` is the profile text getChat returns (the chat page shows it as
  the person's subtitle); ``started: true`` means the person opened the chat with the bot
  earlier (no update is produced); by default a new person has not started it
  ``POST /sandbox/people/batch`` {people: [{first_name, id?, ...}], started?}: many at once
  (a person that cannot be created stops the batch with a 400; the ones before it exist)
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

Many people at once (waves of hundreds or thousands; one request, updates in list order)
  ``POST /sandbox/taps`` {people: [ids], label? | data?}: each person taps a button on the
  newest bot message with an inline keyboard in their private chat (by label or data; the
  first callback button when neither is given).  Returns {"tapped": [{person_id,
  message_id, callback_query_id, update_id}], "skipped": [{person_id, reason}]}: a person
  without such a message (or who blocked the bot) is skipped, not an error.
  ``POST /sandbox/messages`` {people: [ids], text}: each person sends ``text`` in their
  private chat; returns {"sent": [{person_id, message_id, update_id}], "skipped": [...]}.

The actions themselves are in :mod:`sandbox.actions`; inspecting and steering the sandbox
(health, transcripts, the call log, counters, reset, limits, faults, latency) in
:mod:`sandbox.steering`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.actions import (
    member_update,
    person_chat,
    post_message,
    set_blocked,
    tap,
    tap_latest,
)
from sandbox.images import image_size
from sandbox.records import FileKind, Person
from sandbox.state import Sandbox
from sandbox.text import TEXT_LIMIT
from sandbox.wire import (
    PersonError,
    add_guarded,
    int_field,
    json_body,
    ok,
    opt_int,
    optional_str,
    pick_bot,
)


class People:
    """aiohttp handlers for ``/sandbox/...``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def add_routes(self, app: web.Application) -> None:
        routes = [
            ("POST", "/sandbox/people", self.create_person),
            ("POST", "/sandbox/people/batch", self.create_people),
            ("GET", "/sandbox/people", self.list_people),
            ("POST", "/sandbox/groups", self.create_group),
            ("POST", "/sandbox/people/{person_id}/messages", self.message),
            ("POST", "/sandbox/people/{person_id}/photos", self.photo),
            ("POST", "/sandbox/people/{person_id}/documents", self.document),
            ("POST", "/sandbox/people/{person_id}/taps", self.tap),
            ("POST", "/sandbox/people/{person_id}/block", self.block),
            ("POST", "/sandbox/people/{person_id}/unblock", self.unblock),
            ("POST", "/sandbox/taps", self.many_taps),
            ("POST", "/sandbox/messages", self.many_messages),
        ]
        add_guarded(app, routes)

    def _person(self, request: web.Request) -> Person:
        person_id = int_field(request.match_info["person_id"], "person id")
        person = self.sandbox.people.get(person_id)
        if person is None:
            raise PersonError(404, f"no person {person_id}")
        return person

    def _people_list(self, body: dict[str, Any]) -> list[Person]:
        ids = body.get("people")
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise PersonError(400, "people must be a list of person ids")
        unknown = [i for i in ids if i not in self.sandbox.people]
        if unknown:
            raise PersonError(404, f"no people {unknown[:10]}")
        return [self.sandbox.people[i] for i in ids]

    # people

    async def create_person(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        return ok(self._new_person(request, body, body.get("started", False)))

    async def create_people(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        specs = body.get("people")
        if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
            raise PersonError(400, "people must be a list of objects")
        started = body.get("started", False)
        return ok([self._new_person(request, {**body, **spec}, started) for spec in specs])

    def _new_person(self, request: web.Request, body: dict[str, Any], started: Any) -> Any:
        first_name = body.get("first_name", "Test")
        if not isinstance(first_name, str) or not first_name:
            raise PersonError(400, "first_name must be a non-empty string")
        if not isinstance(started, bool):
            raise PersonError(400, "started must be true or false")
        try:
            person = self.sandbox.add_person(
                first_name,
                opt_int(body.get("id"), "id"),
                optional_str(body, "last_name"),
                optional_str(body, "username"),
                optional_str(body, "language_code"),
                optional_str(body, "bio"),
            )
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        if started:
            chat = pick_bot(self.sandbox, request, body).chat(person.id)
            assert chat is not None
            chat.started = True
        return person.as_dict()

    async def list_people(self, request: web.Request) -> web.Response:
        return ok([person.as_dict() for person in self.sandbox.people.values()])

    async def create_group(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        bot = pick_bot(self.sandbox, request, body)
        title = body.get("title")
        members = body.get("members", [])
        if not isinstance(title, str) or not title:
            raise PersonError(400, "title must be a non-empty string")
        if not isinstance(members, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in members
        ):
            raise PersonError(400, "members must be a list of person ids")
        try:
            chat = self.sandbox.add_group(bot, title, members, opt_int(body.get("id"), "id"))
        except ValueError as error:
            raise PersonError(400, str(error)) from None
        if members:
            adder = self.sandbox.people[members[0]]
            member_update(self.sandbox, bot, chat, adder, "left", "member")
        self.sandbox.events.publish("chat", bot_id=bot.id, chat_id=chat.id)
        return ok(chat.api)

    # acting as a person

    async def message(self, request: web.Request) -> web.Response:
        person = self._person(request)
        body = await json_body(request)
        bot = pick_bot(self.sandbox, request, body)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PersonError(400, "text must be a non-empty string")
        if len(text) > TEXT_LIMIT:
            raise PersonError(400, f"text is longer than {TEXT_LIMIT} characters")
        return ok(
            post_message(
                self.sandbox,
                bot,
                person,
                opt_int(body.get("chat_id"), "chat_id"),
                text=text,
                reply_to_message_id=opt_int(body.get("reply_to_message_id"), "reply_to"),
            )
        )

    async def photo(self, request: web.Request) -> web.Response:
        return await self._upload(request, "photo")

    async def document(self, request: web.Request) -> web.Response:
        return await self._upload(request, "document")

    async def _upload(self, request: web.Request, kind: FileKind) -> web.Response:
        person = self._person(request)
        fields, data, filename, mime_type = await self._file_body(request)
        bot = pick_bot(self.sandbox, request, fields)
        width = height = 0
        if kind == "photo":
            size = image_size(data)
            if size is None:
                raise PersonError(400, "the photo is not a PNG, JPEG, GIF, WebP or BMP image")
            width, height = size
        caption = fields.get("caption")
        if caption is not None and not isinstance(caption, str):
            raise PersonError(400, "caption must be a string")
        chat_id = opt_int(fields.get("chat_id"), "chat_id")
        reply_to = opt_int(fields.get("reply_to_message_id"), "reply_to_message_id")
        person_chat(bot, person, chat_id)
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
        return ok(posted)

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
            fields = await json_body(request)
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
        body = await json_body(request)
        bot = pick_bot(self.sandbox, request, body)
        message_id = int_field(body.get("message_id"), "message_id")
        label = optional_str(body, "label")
        data = optional_str(body, "data")
        chat_id = opt_int(body.get("chat_id"), "chat_id")
        forge = body.get("forge", False)
        if not isinstance(forge, bool):
            raise PersonError(400, "forge must be true or false")
        return ok(tap(self.sandbox, bot, person, chat_id, message_id, label, data, forge))

    async def many_taps(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        bot = pick_bot(self.sandbox, request, body)
        label = optional_str(body, "label")
        data = optional_str(body, "data")
        tapped: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for person in self._people_list(body):
            try:
                tapped.append(tap_latest(self.sandbox, bot, person, label, data))
            except PersonError as refused:
                skipped.append({"person_id": person.id, "reason": refused.description})
        return ok({"tapped": tapped, "skipped": skipped})

    async def many_messages(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        bot = pick_bot(self.sandbox, request, body)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_LIMIT:
            raise PersonError(400, f"text must be a non-empty string of at most {TEXT_LIMIT}")
        sent: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for person in self._people_list(body):
            try:
                posted = post_message(self.sandbox, bot, person, None, text=text)
            except PersonError as refused:
                skipped.append({"person_id": person.id, "reason": refused.description})
                continue
            message_id = posted["message"]["message_id"]
            sent.append(
                {"person_id": person.id, "message_id": message_id, "update_id": posted["update_id"]}
            )
        return ok({"sent": sent, "skipped": skipped})

    async def block(self, request: web.Request) -> web.Response:
        person = self._person(request)
        bot = pick_bot(self.sandbox, request, await json_body(request))
        return ok(set_blocked(self.sandbox, bot, person, True))

    async def unblock(self, request: web.Request) -> web.Response:
        person = self._person(request)
        bot = pick_bot(self.sandbox, request, await json_body(request))
        return ok(set_blocked(self.sandbox, bot, person, False))
