"""Messages a handler sends (replies, questions, edits of a nudge): stored in the outbox in one
transaction, sent by the sender within Telegram's limits (``bot.delivery.sender``), in order
within a chat. A handler never waits for the pacer or a 429: only the tap's answer is direct."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.store import outbox
from bot.store.engine import session_scope
from models.tables import Outbox

REPLY, EDIT = "reply", "edit"  # the outbox kinds of what handlers send


@dataclass(frozen=True, slots=True)
class Outgoing:
    chat_id: int
    kind: str
    payload: dict[str, Any]


def reply(chat_id: int, text: str, reply_markup: dict[str, Any] | None = None) -> Outgoing:
    payload: dict[str, Any] = {"method": "sendMessage", "text": text}
    if reply_markup:
        payload["reply_markup"] = reply_markup
    return Outgoing(chat_id, REPLY, payload)


def edit(
    chat_id: int, message_id: int, text: str, reply_markup: dict[str, Any] | None = None
) -> Outgoing:
    payload: dict[str, Any] = {"method": "editMessageText", "message_id": message_id, "text": text}
    if reply_markup:
        payload["reply_markup"] = reply_markup
    return Outgoing(chat_id, EDIT, payload)


def queue(engine: Engine, messages: Sequence[Outgoing], now: datetime) -> None:
    """Store the messages to send, in this order, in one transaction."""
    if not messages:
        return
    with session_scope(engine) as session:
        outbox.add_new(
            session,
            [
                Outbox(
                    chat_id=m.chat_id,
                    kind=m.kind,
                    payload=m.payload,
                    created_at=now,
                    next_attempt_at=now,
                )
                for m in messages
            ],
        )
