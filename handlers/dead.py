"""``/dead``: the messages the bot gave up on (admins only, in a private chat)."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.services import reports
from handlers.common import actor_or_refuse, answer
from models.roles import Role


async def dead(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context, Role.ADMIN)
    if actor is None:
        return
    rt = context.bot_data.runtime
    text = await rt.call(reports.dead_list, rt.engine, rt.settings, actor.language)
    await answer(update, context, text)
