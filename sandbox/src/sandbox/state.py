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
* Messages, chats, people, files and callback queries are the records of
  :mod:`sandbox.records`; returned Bot API objects are built from them on demand.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from sandbox.events import EventHub
from sandbox.faults import FaultQueue
from sandbox.ratelimit import Limits, RateLimiter
from sandbox.records import CallbackQuery, Chat, FileKind, Person, StoredFile
from sandbox.stats import CallLog, Counters
from sandbox.updates import UpdateQueue
from sandbox.webhook import Webhook

DEFAULT_TOKEN = "123456:TEST-sandbox-token-not-secret"
"""The documented test token: bot id 123456, username ``execbot_sandbox_bot``."""

DEFAULT_USERNAME = "execbot_sandbox_bot"
TOKEN_FORMAT = re.compile(r"^[1-9]\d{0,15}:[A-Za-z0-9_-]{1,70}$")


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
