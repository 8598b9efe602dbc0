"""``/report`` (a leader's figures over their units) and ``/me`` (a person's own month)."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.render import texts
from bot.services import report as service
from handlers.common import actor_or_refuse, answer
from models.roles import Role


async def report(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    if actor.role < Role.LEADER:
        await answer(update, context, texts.render(actor.language, "report.not_leader"))
        return
    rt = context.bot_data.runtime
    args = list(context.args or [])
    text = await rt.call(
        service.report, rt.engine, rt.settings, actor.person_id, actor.language, rt.clock(), args
    )
    await answer(update, context, text)


async def me(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    rt = context.bot_data.runtime
    text = await rt.call(
        service.me, rt.engine, rt.settings, actor.person_id, actor.language, rt.clock()
    )
    await answer(update, context, text)
