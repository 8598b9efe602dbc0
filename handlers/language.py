"""``/language``: the language a person reads execbot in, and buttons to switch it.

A tap stores the choice (``bot.services.language.choose``), answers the tap and replaces the
menu with a confirmation in the new language; every message after it is in that language."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from bot.context import Context
from bot.delivery.inbox import answer_soon, tap_answered
from bot.render import texts
from bot.services import language, menus, outgoing
from handlers.common import actor_or_refuse, send

log = logging.getLogger(__name__)
TOAST_LIMIT = 200  # characters Telegram shows in a callback answer


async def language_command(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    chat = update.effective_chat
    if actor is None or chat is None:
        return
    menu = language.menu(actor.language)
    await send(context, [outgoing.reply(chat.id, menu.text, menu.reply_markup)])


async def on_tap(update: Update, context: Context) -> None:
    """A tap on a /language button (callback data ``l:...``, trusted for nothing)."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    rt = context.bot_data.runtime
    plant = rt.settings.plant.name
    try:
        chosen = await rt.call(
            language.choose,
            rt.engine,
            plant,
            user.id,
            query.data or "",
            rt.clock(),
            user.language_code,
        )
    except Exception:
        await _answer(query, texts.render(None, "access.try_again"))
        raise
    await answer_soon(_answer(query, chosen.answer))
    if chosen.recorded:  # their command menu follows, in the background
        menus.start_refresh(rt, context.bot)
    message = query.message
    if chosen.confirmation is not None and message is not None:
        edit = outgoing.edit(message.chat.id, message.message_id, chosen.confirmation)
        await send(context, [edit])


async def _answer(query: CallbackQuery, text: str) -> None:
    """Answer the tap once; a second answer or a too old query is refused by Telegram, and
    the choice is stored either way."""
    try:
        await query.answer(text[:TOAST_LIMIT])
        tap_answered()
    except BadRequest as exc:
        log.info("could not answer callback query %s: %s", query.id, exc.message)
