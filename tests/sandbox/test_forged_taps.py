"""Forged taps: what a modified client can send. Telegram delivers a callback query's data as
the client sent it ("data: Optional. Data associated with the callback button. Be aware that
the message originated the query can contain no callback buttons with this data.",
https://core.telegram.org/bots/api#callbackquery), so the sandbox can send any 1-64 bytes
for any live message of the person's chat."""

from __future__ import annotations

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.client import AsyncSandboxClient, SandboxError

from .conftest import started


async def test_forged_data_reaches_the_bot_as_sent(
    people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    chat = await started(people)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="r:d:1")]])
    with_keyboard = await bot.send_message(chat, "Duty 1", reply_markup=keyboard)
    plain = await bot.send_message(chat, "No buttons here")
    first = await people.tap(chat, with_keyboard.message_id, data="r:d:999", forge=True)
    second = await people.tap(chat, plain.message_id, data="x" * 64, forge=True)
    third = await people.tap(chat, plain.message_id, data="é' OR 1=1 --", forge=True)
    queries = [u.callback_query for u in await bot.get_updates() if u.callback_query]
    assert [(q.id, q.data, q.message.message_id if q.message else None) for q in queries] == [
        (first, "r:d:999", with_keyboard.message_id),
        (second, "x" * 64, plain.message_id),
        (third, "é' OR 1=1 --", plain.message_id),
    ]
    assert (await people.counters())["unanswered_callback_queries"] == 3
    # Without forge the keyboard still rules.
    with pytest.raises(SandboxError, match="no button with data 'r:d:999'"):
        await people.tap(chat, with_keyboard.message_id, data="r:d:999")


async def test_forged_taps_are_refused_like_a_client_would_be(
    people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    chat = await started(people)
    other = await started(people, "Bob")
    sent = await bot.send_message(chat, "Duty 1")
    with pytest.raises(SandboxError, match="1-64 bytes"):
        await people.tap(chat, sent.message_id, data="é" * 33, forge=True)  # 66 bytes
    with pytest.raises(SandboxError, match="1-64 bytes"):
        await people.tap(chat, sent.message_id, data="", forge=True)
    with pytest.raises(SandboxError, match="takes data and no label"):
        await people.tap(chat, sent.message_id, label="Done", forge=True)
    with pytest.raises(SandboxError, match="no message 99"):
        await people.tap(chat, 99, data="r:d:1", forge=True)
    with pytest.raises(SandboxError, match=f"no message {sent.message_id} in chat {other}"):
        await people.tap(other, sent.message_id, data="r:d:1", forge=True)  # not their chat
    assert (await people.counters())["callback_queries"] == 0
