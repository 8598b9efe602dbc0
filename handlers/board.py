"""``/team`` and ``/overdue``: the leader's board."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.services import board
from handlers.common import actor_or_refuse, answer
from models.roles import Role


async def team(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context, Role.LEADER)
    if actor is None:
        return
    rt = context.bot_data.runtime
    text = await rt.call(
        board.team, rt.engine, rt.settings, actor.person_id, actor.language, rt.clock()
    )
    await answer(update, text)


async def overdue(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context, Role.LEADER)
    if actor is None:
        return
    rt = context.bot_data.runtime
    text = await rt.call(
        board.overdue, rt.engine, rt.settings, actor.person_id, actor.language, rt.clock()
    )
    await answer(update, text)
