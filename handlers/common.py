"""Helpers every handler uses: the runtime, who is asking, and answering them."""

from __future__ import annotations

import logging
import time

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CommandHandler

from bot.context import Context
from bot.render import texts
from bot.services import access, outgoing
from bot.services.access import Actor
from models.language import match
from models.roles import Role, allowed

log = logging.getLogger(__name__)


def stranger_language(update: Update) -> str:
    """A language for someone we do not know yet: Telegram's ``language_code`` if execbot
    speaks it (``ru-RU`` -> ``ru``, ``zh-cn`` -> ``zh-Hans``), else English."""
    user = update.effective_user
    found = match(user.language_code, texts.languages()) if user else None
    return found or texts.FALLBACK


MESSAGE_LIMIT = 4096  # characters Telegram takes in one message


async def answer(update: Update, context: Context, text: str) -> None:
    """Reply in the chat, through the outbox. A text too long for one message is cut (with
    "…"): Telegram would refuse it whole, and the person would hear nothing."""
    chat = update.effective_chat
    if chat is not None:
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 1] + "…"
        await send(context, [outgoing.reply(chat.id, text)])


async def send(context: Context, messages: list[outgoing.Outgoing]) -> None:
    """Store messages (replies, questions, edits) in the outbox in one transaction and wake the
    sender: the handler goes on at once, the sender paces them within Telegram's limits."""
    if not messages:
        return
    rt = context.bot_data.runtime
    await rt.call(outgoing.queue, rt.engine, messages, rt.clock())
    context.bot_data.sender.wake()


async def actor_or_refuse(
    update: Update, context: Context, required: Role = Role.WORKER
) -> Actor | None:
    """The person behind this update if they may do what needs ``required``; else answer with
    a polite refusal and return None. A stranger leaves nothing behind but a log line."""
    rt = context.bot_data.runtime
    user = update.effective_user
    if user is None:
        return None
    actor = await rt.call(access.identify, rt.engine, user.id, rt.admin_keys)
    if actor is None:
        if not context.bot_data.refusals.allow(user.id, time.monotonic()):
            log.debug("refused unknown telegram user %s again (not told)", user.id)
            await _answer_tap(update, None)
            return None
        log.info("refused unknown telegram user %s", user.id)
        lang = stranger_language(update)
        text = texts.render(lang, "access.unknown_user", plant=rt.settings.plant.name)
        if not await _answer_tap(update, text):
            await answer(update, context, text)
        return None
    if not allowed(actor.role, required):
        refusal = f"access.only_{required.name.lower()}"
        await answer(update, context, texts.render(actor.language, refusal))
        return None
    return actor


async def private_only(update: Update, context: Context) -> None:
    """Runs before every other handler: execbot talks only in private chats. In a group (or
    channel) a command of this bot gets a one-line pointer to the private chat, a tap (on a
    forwarded message, say) gets the same as its toast, and nothing else is answered or done:
    no board, no duty and no question ever lands where others read along."""
    chat = update.effective_chat
    if chat is None or chat.type == Chat.PRIVATE:
        return
    username = context.bot.username if context.bot else ""
    pointer = texts.render(None, "access.private_only", bot=username)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(pointer[:200])
        elif _our_command(update, context, username):
            await answer(update, context, pointer)
    except TelegramError as exc:  # the group may have muted the bot; nothing else to do
        log.info("could not point chat %s to the private chat: %s", chat.id, exc)
    raise ApplicationHandlerStop


async def _answer_tap(update: Update, text: str | None) -> bool:
    """Answer the update's tap, if it is one (with ``text`` as its toast): a tap is always
    answered, or the person's button spins. False if the update is no tap."""
    query = update.callback_query
    if query is None:
        return False
    try:
        await query.answer(text[:200] if text else None)
    except TelegramError as exc:
        log.info("could not answer callback query %s: %s", query.id, exc)
    return True


def _our_command(update: Update, context: Context, username: str) -> bool:
    """Whether the message is one of this bot's commands (``/team`` or ``/team@thisbot``, not
    another bot's)."""
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return False
    command, _, addressee = message.text.split()[0][1:].partition("@")
    if addressee and addressee.casefold() != username.casefold():
        return False
    known = {
        name
        for handlers in context.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    return command.casefold() in known
