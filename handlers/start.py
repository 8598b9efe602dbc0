"""``/start`` and ``/start <code>``: link a Telegram account to a person with an invite. A
linked person whose language came from nowhere better gets Telegram's (``language_code``), and
the answer is in it (``bot.services.language``)."""

from __future__ import annotations

import re

from telegram import Update

from bot.context import Context
from bot.render import texts
from bot.services import access, language, onboarding
from handlers.common import answer, stranger_language
from models.invites import Outcome

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def start(update: Update, context: Context) -> None:
    rt = context.bot_data.runtime
    user = update.effective_user
    if user is None:
        return
    plant = rt.settings.plant.name
    code = context.args[0] if context.args else ""
    if not code:
        actor = await rt.call(access.identify, rt.engine, user.id, rt.admin_keys)
        if actor is not None:
            lang = await rt.call(
                language.on_start, rt.engine, actor.person_id, user.language_code, rt.clock()
            )
            text = texts.render(lang, "start.already_linked", name=actor.name)
        else:
            text = texts.render(stranger_language(update), "start.no_code", plant=plant)
        await answer(update, context, text)
        return
    if not CODE.match(code):
        await answer(update, context, texts.render(stranger_language(update), "start.code_unknown"))
        return
    result = await rt.call(
        onboarding.redeem, rt.engine, code, user.id, rt.clock(), user.language_code
    )
    lang = result.language if result.outcome is not Outcome.UNKNOWN else stranger_language(update)
    message_id = "start.greeting" if result.outcome is Outcome.LINK else f"start.{result.outcome}"
    await answer(
        update, context, texts.render(lang, message_id, name=result.person_name, plant=plant)
    )
