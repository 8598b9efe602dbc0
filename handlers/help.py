"""``/help``: what this person can do, by role."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.render import texts
from handlers.common import actor_or_refuse, answer
from models.roles import Role


async def help_command(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    parts = [texts.render(actor.language, "help.worker")]
    if actor.role >= Role.LEADER:
        parts.append(texts.render(actor.language, "help.leader"))
    if actor.role >= Role.ADMIN:
        parts.append(texts.render(actor.language, "help.admin"))
    await answer(update, context, "\n\n".join(parts))
