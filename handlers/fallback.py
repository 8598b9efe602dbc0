"""Everything no other handler took: unknown commands, stray text, stickers, files."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.render import texts
from handlers.common import actor_or_refuse, answer

# Registered last (handlers/__init__.py), in the same group as every other handler: within a
# group only the first matching handler runs, so these see only what no other handler took.


async def unknown_command(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is not None:
        await answer(update, context, texts.render(actor.language, "access.unknown_command"))


async def anything_else(update: Update, context: Context) -> None:
    """Stickers, voice, video, locations, contacts: nothing the bot reads."""
    actor = await actor_or_refuse(update, context)
    if actor is not None:
        await answer(update, context, texts.render(actor.language, "reply.unsupported"))
