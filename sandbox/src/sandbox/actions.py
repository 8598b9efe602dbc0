"""What a person does, as Telegram's servers would turn it into updates for the bot.

Each action changes the sandbox state, publishes a chat-page event and returns what the
person API answers (with the ``update_id`` of the update the bot gets).  A refusal is a
:class:`~sandbox.wire.PersonError`.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.markup import MAX_CALLBACK_DATA
from sandbox.records import CallbackQuery, Chat, Message, Person, StoredFile
from sandbox.state import Bot, Sandbox
from sandbox.text import bot_command_entities
from sandbox.wire import PersonError


def _chat_instance(bot: Bot, chat: Chat) -> str:
    return str((bot.id * 1_000_003 + chat.id) & 0x7FFFFFFFFFFFFFFF)


def person_chat(bot: Bot, person: Person, chat_id: int | None) -> Chat:
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
    chat = person_chat(bot, person, chat_id)
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
        chat = person_chat(bot, person, chat_id)
        return _callback(sandbox, bot, person, chat, _message_in(chat, message_id), data)
    if label is None and data is None:
        raise PersonError(400, "give the button's label or its callback data")
    chat = person_chat(bot, person, chat_id)
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


def latest_keyboard_message(chat: Chat) -> Message | None:
    """The newest live bot message of the chat that shows an inline keyboard."""
    for item in reversed(chat.timeline):
        if isinstance(item, Message) and item.sender is None and not item.deleted and item.inline:
            return item
    return None


def tap_latest(
    sandbox: Sandbox, bot: Bot, person: Person, label: str | None, data: str | None
) -> dict[str, Any]:
    """The person taps a button (by label or data; the first callback button when neither is
    given) on the newest bot message with an inline keyboard in their private chat."""
    chat = person_chat(bot, person, None)
    message = latest_keyboard_message(chat)
    if message is None:
        raise PersonError(400, f"no bot message with an inline keyboard in chat {chat.id}")
    if label is None and data is None:
        markup = message.inline
        assert markup is not None
        data = next(
            (
                button["callback_data"]
                for row in markup.inline_rows
                for button in row
                if isinstance(button.get("callback_data"), str)
            ),
            None,
        )
        if data is None:
            raise PersonError(400, f"message {message.message_id} has no callback button")
    result = tap(sandbox, bot, person, None, message.message_id, label, data)
    return {"person_id": person.id, "message_id": message.message_id, **result}


def _callback(
    sandbox: Sandbox, bot: Bot, person: Person, chat: Chat, message: Message, callback_data: str
) -> dict[str, Any]:
    """The ``callback_query`` update of a tap."""
    query = CallbackQuery(
        sandbox.new_callback_id(), person, chat, message, callback_data, time.monotonic()
    )
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


def member_update(
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
    update = member_update(sandbox, bot, chat, person, old, new)
    return {"changed": True, "update_id": update["update_id"] if update else None}
