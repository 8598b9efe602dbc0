"""Which chat an update belongs to, for handling one chat's updates in order.

An update is a JSON object with ``update_id`` and one field naming its kind (``message``,
``callback_query``, ``my_chat_member``...). Updates with the same key are handled one at a time,
in ``update_id`` order; updates with different keys may be handled at once.
"""

from __future__ import annotations

from typing import Any


def chat_key(payload: dict[str, Any]) -> int:
    """The chat whose order the update keeps: the chat of its message (or of the message a
    tapped button sits on), else the person who caused it, else 0 (one shared key for updates
    with neither, such as a poll's new results)."""
    for kind, item in payload.items():
        if kind == "update_id" or not isinstance(item, dict):
            continue
        message = item.get("message")
        for holder, field in (
            (item.get("chat"), "id"),
            (message.get("chat") if isinstance(message, dict) else None, "id"),
            (item.get("from"), "id"),
            (item.get("user"), "id"),
        ):
            if isinstance(holder, dict):
                value = holder.get(field)
                if isinstance(value, int) and not isinstance(value, bool):
                    return value
        return 0
    return 0
