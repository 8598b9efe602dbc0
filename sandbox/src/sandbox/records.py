"""The records the sandbox keeps: people, stored files, messages, chats, callback queries.

* A :class:`Person` is a Telegram user created through the person API; people are shared by
  all bots.
* A :class:`Message` keeps its current state (text, entities, inline keyboard, edit count,
  deleted flag); returned Message objects are built from it on demand.  Message ids count up
  per chat from 1.
* A :class:`Chat` is a private chat with a person (the person's id as chat id) or a group
  (negative id, with members), as one bot sees it.  It keeps a timeline of its messages and
  of the callback-query answers the bot showed in it, which is what the transcript renders.

Who owns them and how they are created is in :mod:`sandbox.state`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.markup import Markup

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
    created: float = 0.0  # time.monotonic() when the person tapped
    answered: bool = False
    too_late: bool = False  # an answer came after the answer window and was refused
