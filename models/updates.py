"""What the inbox needs to know of a Telegram update before anyone handles it: the chat
whose updates keep their order (``chat_key``) and what kind of update it is. Pure: it reads the
update's JSON as Telegram sent it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

# The parts of an update that carry a message (with its chat) or a sender.
MESSAGE_FIELDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
)


class Kind(StrEnum):
    TAP = "tap"  # a callback query: its answer is due within Telegram's window
    MESSAGE = "message"
    OTHER = "other"


def chat_key(update: dict[str, Any]) -> int:
    """The chat this update belongs to: the message's chat, the tapped message's chat, else
    the id of whoever sent it, else 0 (updates with neither share one queue)."""
    for name in MESSAGE_FIELDS:
        chat_id = _chat_id(update.get(name))
        if chat_id is not None:
            return chat_id
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat_id = _chat_id(query.get("message"))
        if chat_id is not None:
            return chat_id
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return 0


def kind(update: dict[str, Any]) -> Kind:
    if "callback_query" in update:
        return Kind.TAP
    if any(name in update for name in MESSAGE_FIELDS):
        return Kind.MESSAGE
    return Kind.OTHER


def _chat_id(message: Any) -> int | None:
    if not isinstance(message, dict):
        return None
    chat = message.get("chat")
    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
        return int(chat["id"])
    return None
