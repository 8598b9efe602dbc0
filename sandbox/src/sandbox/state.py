"""Everything the sandbox remembers, in memory: bots, people, chats, messages, files.

Model:

* A :class:`Bot` exists for every token the sandbox was started with.  Its id is the part of
  the token before the colon (https://core.telegram.org/bots/api#authorizing-your-bot: "Each
  bot is given a unique authentication token [...] looks something like
  123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11").  Each bot has its own chats, update queue,
  webhook, commands and callback queries.
* A :class:`Person` is a Telegram user created through the person API; people are shared by
  all bots.  The private chat between a bot and a person has the person's id as chat id and
  is created on first use.  Creating a person does not start the chat (unless the person
  API is told ``started: true``): the person starts it by sending the bot a message
  (normally ``/start``; any message implies the chat is open).
  Until then the bot gets 403 "bot can't initiate conversation with a user"; after the person
  blocks the bot, 403 "bot was blocked by the user".  Ids nobody created are "chat not found".
* A group (negative id) belongs to one bot and lists its members; the bot can always write
  to it (subject to the 20 messages per minute limit).
* A :class:`Message` keeps its current state (text, entities, inline keyboard, edit count,
  deleted flag); returned Message objects are built from it on demand.  Message ids count up
  per chat from 1.
* Each chat keeps a timeline of its messages and of the callback-query answers the bot
  showed in it, which is what the transcript renders.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from sandbox.events import EventHub
from sandbox.faults import FaultQueue
from sandbox.markup import Markup
from sandbox.ratelimit import Limits, RateLimiter
from sandbox.stats import CallLog, Counters
from sandbox.updates import UpdateQueue
from sandbox.webhook import Webhook

DEFAULT_TOKEN = "123456:TEST-sandbox-token-not-secret"
"""The documented test token: bot id 123456, username ``execbot_sandbox_bot``."""

DEFAULT_USERNAME = "execbot_sandbox_bot"
TOKEN_FORMAT = re.compile(r"^[1-9]\d{0,15}:[A-Za-z0-9_-]{1,70}$")
FileKind = Literal["photo", "document"]


@dataclass(slots=True)
class Person:
    """A Telegram user on the person side."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    bio: str | None = None  # shown by getChat and the chat page, never in updates
    user: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        self.user = user

    def as_dict(self) -> dict[str, Any]:
        return {**self.user, "bio": self.bio} if self.bio else dict(self.user)


@dataclass(slots=True)
class StoredFile:
    """An uploaded file, reachable by file_id and served under /file/bot<token>/<path>."""

    file_id: str
    file_unique_id: str
    kind: FileKind
    data: bytes
    file_path: str
    file_name: str
    mime_type: str
    width: int = 0
    height: int = 0

    def photo_sizes(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": len(self.data),
            }
        ]

    def document(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }

    def file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def summary(self) -> dict[str, Any]:
        info = self.document() if self.kind == "document" else self.photo_sizes()[0]
        return {**info, "file_path": self.file_path}


@dataclass(slots=True, eq=False)
class Message:
    """A message in a chat, in its current state."""

    message_id: int
    chat: Chat
    sender: Person | None  # None: the bot
    sender_user: dict[str, Any]
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    markup: Markup | None = None
    file: StoredFile | None = None
    reply_to: Message | None = None
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False

    @property
    def inline(self) -> Markup | None:
        markup = self.markup
        return markup if markup is not None and markup.kind == "inline" else None

    def to_api(self, with_reply: bool = True) -> dict[str, Any]:
        """The Message object as the Bot API returns it."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender_user,
            "chat": self.chat.api,
            "date": self.date,
        }
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(False)
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.file is not None:
            if self.file.kind == "photo":
                data["photo"] = self.file.photo_sizes()
            else:
                data["document"] = self.file.document()
            if self.caption:
                data["caption"] = self.caption
                if self.caption_entities:
                    data["caption_entities"] = self.caption_entities
        inline = self.inline
        if inline is not None:
            data["reply_markup"] = inline.data
        return data

    def transcript(self) -> dict[str, Any]:
        """The transcript entry: current content, buttons and history flags."""
        entry: dict[str, Any] = {
            "kind": "message",
            "message_id": self.message_id,
            "from": "bot" if self.sender is None else "person",
            "sender_id": self.sender_user["id"],
            "date": self.date,
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "buttons": self.inline.inline_rows if self.inline is not None else [],
            "reply_markup": self.markup.data if self.markup is not None else None,
            "reply_to_message_id": self.reply_to.message_id if self.reply_to else None,
            "edit_count": self.edit_count,
            "edit_date": self.edit_date,
            "deleted": self.deleted,
            "photo": None,
            "document": None,
        }
        if self.file is not None:
            entry[self.file.kind] = self.file.summary()
        return entry


@dataclass(slots=True, eq=False)
class Chat:
    """A private chat with a person or a group, as one bot sees it."""

    id: int
    type: Literal["private", "group"]
    api: dict[str, Any]
    person: Person | None = None
    title: str | None = None
    members: set[int] = field(default_factory=set)
    started: bool = False
    blocked: bool = False
    messages: dict[int, Message] = field(default_factory=dict)
    timeline: list[Message | dict[str, Any]] = field(default_factory=list)
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.type == "group"

    def add_message(self, message: Message) -> Message:
        self.messages[message.message_id] = message
        self.timeline.append(message)
        return message

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def live_message(self, message_id: int) -> Message | None:
        message = self.messages.get(message_id)
        return None if message is None or message.deleted else message

    def transcript(self) -> list[dict[str, Any]]:
        return [item.transcript() if isinstance(item, Message) else item for item in self.timeline]

    def full_info(self) -> dict[str, Any]:
        """The ChatFullInfo object getChat returns."""
        info = dict(self.api)
        if self.person is not None and self.person.bio:
            info["bio"] = self.person.bio
        info["accent_color_id"] = abs(self.id) % 7
        info["max_reaction_count"] = 11
        info["accepted_gift_types"] = {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        }
        return info


@dataclass(slots=True, eq=False)
class CallbackQuery:
    """A callback query a person's tap created."""

    id: str
    person: Person
    chat: Chat
    message: Message
    data: str
    answered: bool = False


class Bot:
    """One bot token's state."""

    def __init__(self, token: str, people: dict[int, Person], first: bool) -> None:
        self.token = token
        self.id = int(token.split(":", 1)[0])
        self.username = DEFAULT_USERNAME if first else f"sandbox{self.id}_bot"
        self.first_name = "Execbot Sandbox" if first else f"Sandbox Bot {self.id}"
        self.user: dict[str, Any] = {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }
        self._people = people
        self.chats: dict[int, Chat] = {}
        self.updates = UpdateQueue()
        self.webhook: Webhook | None = None
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}

    def me(self) -> dict[str, Any]:
        """The User object getMe returns."""
        return {
            **self.user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def chat(self, chat_id: int) -> Chat | None:
        """The chat with this id, creating the private chat with a known person lazily."""
        chat = self.chats.get(chat_id)
        if chat is None and (person := self._people.get(chat_id)) is not None:
            api: dict[str, Any] = {"id": person.id, "type": "private"}
            api.update((k, v) for k, v in person.user.items() if k in _CHAT_FIELDS)
            chat = self.chats[chat_id] = Chat(person.id, "private", api, person=person)
        return chat

    def reset(self) -> None:
        if self.webhook is not None:
            self.webhook.stop()
            self.webhook = None
        self.updates.clear()
        self.chats.clear()
        self.commands.clear()
        self.callback_queries.clear()


_CHAT_FIELDS = ("first_name", "last_name", "username")


MAX_LATENCY = 60.0


def check_latency(low: float, high: float) -> tuple[float, float]:
    """A latency range in seconds (each Bot API call waits a random time in it)."""
    if not 0 <= low <= high <= MAX_LATENCY:
        raise ValueError(f"latency must satisfy 0 <= min <= max <= {MAX_LATENCY:g} seconds")
    return (float(low), float(high))


class Sandbox:
    """The whole sandbox state; one per server."""

    def __init__(
        self,
        tokens: Sequence[str] = (DEFAULT_TOKEN,),
        limits: bool | Limits = True,
        call_log_size: int = 100_000,
        latency: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        if not tokens:
            raise ValueError("at least one bot token is needed")
        for token in tokens:
            if not TOKEN_FORMAT.match(token):
                raise ValueError(f"not a Telegram bot token (<digits>:<secret>): {token!r}")
        self.people: dict[int, Person] = {}
        self.bots: dict[str, Bot] = {}
        for index, token in enumerate(tokens):
            self.bots[token] = Bot(token, self.people, first=index == 0)
        self.initial_limits = limits if isinstance(limits, Limits) else Limits(enabled=limits)
        self.limiter = RateLimiter(self.initial_limits)
        self.faults = FaultQueue()
        self.initial_latency = check_latency(*latency)
        self.latency = self.initial_latency
        self.calls = CallLog(call_log_size)
        self.counters = Counters()
        self.events = EventHub()
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.http: aiohttp.ClientSession | None = None
        self.started_at = time.time()
        self._next_person_id = 1_000_001
        self._next_file = 1
        self._next_callback = 5_000_000_000_000_000

    def bot(self, selector: str | int | None = None) -> Bot:
        """A bot by id, username or token; the first bot when ``selector`` is empty."""
        if selector is None or selector == "":
            return next(iter(self.bots.values()))
        for bot in self.bots.values():
            if str(selector) in (str(bot.id), bot.username, "@" + bot.username, bot.token):
                return bot
        raise KeyError(f"no bot {selector!r}")

    def add_person(
        self,
        first_name: str,
        person_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        bio: str | None = None,
    ) -> Person:
        if person_id is None:
            while self._next_person_id in self.people:
                self._next_person_id += 1
            person_id = self._next_person_id
        if person_id <= 0:
            raise ValueError("a person's id must be positive")
        if person_id in self.people or any(person_id == bot.id for bot in self.bots.values()):
            raise ValueError(f"id {person_id} is taken")
        person = Person(person_id, first_name, last_name, username, language_code, bio)
        self.people[person_id] = person
        self.events.publish("person", person_id=person_id)
        return person

    def add_group(self, bot: Bot, title: str, members: Sequence[int], group_id: int | None) -> Chat:
        if group_id is None:
            group_id = -(4_000_000_000 + len(bot.chats) + 1)
            while group_id in bot.chats:
                group_id -= 1
        if group_id >= 0:
            raise ValueError("a group id must be negative")
        if group_id in bot.chats:
            raise ValueError(f"chat {group_id} exists")
        unknown = [member for member in members if member not in self.people]
        if unknown:
            raise ValueError(f"unknown people: {unknown}")
        api = {"id": group_id, "type": "group", "title": title}
        chat = Chat(group_id, "group", api, title=title, members=set(members), started=True)
        bot.chats[group_id] = chat
        return chat

    def store_file(
        self,
        kind: FileKind,
        data: bytes,
        file_name: str,
        mime_type: str,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        number = self._next_file
        self._next_file += 1
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        extension = mimetypes.guess_extension(mime_type) or ""
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=f"SBX{kind[0].upper()}{number:08d}{number * 2654435761 % 10**10:010d}",
            file_unique_id=f"sbxu{number}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def new_callback_id(self) -> str:
        self._next_callback += 1
        return str(self._next_callback)

    def now(self) -> int:
        return int(time.time())

    def reset(self) -> None:
        """Forget people, chats, files, updates, calls, counters and faults; restore limits."""
        for bot in self.bots.values():
            bot.reset()
        self.people.clear()
        self.files.clear()
        self.files_by_path.clear()
        self.faults.clear()
        self.calls.clear()
        self.counters = Counters()
        self.limiter.configure(self.initial_limits)
        self.latency = self.initial_latency
        self.events.publish("reset")

    async def close(self) -> None:
        """End event streams, stop webhook deliveries and close the outgoing HTTP session."""
        self.events.close()
        tasks = [bot.webhook.stop() for bot in self.bots.values() if bot.webhook is not None]
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)
        if self.http is not None:
            await self.http.close()
            self.http = None
