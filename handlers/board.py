"""``/team`` and ``/overdue``: the leader's board."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from telegram import Update

from bot.config import Settings
from bot.context import Context
from bot.services import board
from handlers.common import actor_or_refuse, answer
from models.roles import Role

View = Callable[[Engine, Settings, int, str, datetime], str]  # a board, as the leader reads it


async def team(update: Update, context: Context) -> None:
    await _show(update, context, board.team)


async def overdue(update: Update, context: Context) -> None:
    await _show(update, context, board.overdue)


async def _show(update: Update, context: Context, view: View) -> None:
    actor = await actor_or_refuse(update, context, Role.LEADER)
    if actor is None:
        return
    rt = context.bot_data.runtime
    text = await rt.call(view, rt.engine, rt.settings, actor.person_id, actor.language, rt.clock())
    await answer(update, context, text)
