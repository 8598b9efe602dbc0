"""Everything no other handler took: unknown commands, stray text, stickers, files."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot import texts
from handlers.common import actor_or_refuse, answer

# Registered in a later group than every other handler, so it sees only what they left.
GROUP = 99


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is not None:
        await answer(update, texts.render(actor.language, "access.unknown_command"))


async def anything_else(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is not None:
        await answer(update, texts.render(actor.language, "access.not_understood"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command), group=GROUP)
    app.add_handler(MessageHandler(private & ~filters.COMMAND, anything_else), group=GROUP)
