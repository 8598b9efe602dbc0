"""Everything no other handler took: unknown commands, stray text, stickers, files."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot import texts
from handlers.common import actor_or_refuse, answer

# Registered last, in the same group as every other handler: within a group only the first
# matching handler runs, so these see only what no other handler took.


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is not None:
        await answer(update, texts.render(actor.language, "access.unknown_command"))


async def anything_else(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice, video, locations, contacts: nothing the bot reads."""
    actor = await actor_or_refuse(update, context)
    if actor is not None:
        await answer(update, texts.render(actor.language, "reply.unsupported"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    read_elsewhere = filters.COMMAND | filters.TEXT | filters.PHOTO | filters.Document.ALL
    app.add_handler(MessageHandler(private & ~read_elsewhere, anything_else))
