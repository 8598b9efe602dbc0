"""What the inbox needs to know of a Telegram update before anyone handles it: the chat
whose updates keep their order (``chat_key``) and what kind of update it is. Pure: it reads the
update's JSON as Telegram sent it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

# The parts of an update that carry a message.
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
    """The chat whose order the update keeps: the chat of its message (or of the message a
    tapped button sits on), else the person who caused it, else 0 (one shared key for updates
    with neither, such as a poll's new results). Odd shapes never raise: a missing or
    non-integer id falls through to the next candidate."""
    for name, item in update.items():
        if name == "update_id" or not isinstance(item, dict):
            continue
        message = item.get("message")
        for holder in (
            item.get("chat"),
            message.get("chat") if isinstance(message, dict) else None,
            item.get("from"),
            item.get("user"),
        ):
            key = _id(holder)
            if key is not None:
                return key
        return 0
    return 0


def kind(update: dict[str, Any]) -> Kind:
    if "callback_query" in update:
        return Kind.TAP
    if any(name in update for name in MESSAGE_FIELDS):
        return Kind.MESSAGE
    return Kind.OTHER


def _id(holder: Any) -> int | None:
    if not isinstance(holder, dict):
        return None
    value = holder.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
