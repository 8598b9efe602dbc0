"""``/digest``: whether the leader's daily digest is on; ``/digest on`` and ``/digest off``
switch it (stored per person, ``bot.services.digest``)."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.render import dates, texts
from bot.services import digest
from handlers.common import actor_or_refuse, answer
from models.roles import Role

WORDS = {"on": True, "off": False}


async def digest_command(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context, Role.LEADER)
    if actor is None:
        return
    args = [a.lower() for a in (context.args or [])]
    if len(args) > 1 or (args and args[0] not in WORDS):
        await answer(update, context, texts.render(actor.language, "digest.usage"))
        return
    wanted = WORDS[args[0]] if args else None
    rt = context.bot_data.runtime
    on = await rt.call(digest.switch, rt.engine, actor.person_id, wanted, rt.clock())
    at = dates.clock(actor.language, rt.settings.digest_time())
    if wanted is None:
        key = "digest.is_on" if on else "digest.is_off"
    else:
        key = "digest.turned_on" if on else "digest.turned_off"
    await answer(update, context, texts.render(actor.language, key, at=at))
