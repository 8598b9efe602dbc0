"""Helpers every handler uses: the runtime, who is asking, and answering them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot import access, texts
from bot.access import Actor
from bot.runtime import Runtime
from models.roles import Role, allowed

log = logging.getLogger(__name__)
RUNTIME_KEY = "runtime"


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    value = context.application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value


def stranger_language(update: Update) -> str:
    """A language for someone we do not know yet: Telegram's guess, if we have texts for it."""
    user = update.effective_user
    code = (user.language_code or "en").split("-")[0] if user else "en"
    return code if code in texts.languages() else texts.FALLBACK


MESSAGE_LIMIT = 4096  # characters Telegram takes in one message


async def answer(update: Update, text: str) -> None:
    """Reply in the chat. A text too long for one message is cut (with "…"): Telegram would
    refuse it whole, and the person would hear nothing."""
    message = update.effective_message
    if message is not None:
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 1] + "…"
        await message.reply_text(text)


async def actor_or_refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, required: Role = Role.WORKER
) -> Actor | None:
    """The person behind this update if they may do what needs ``required``; else answer with
    a polite refusal and return None. A stranger leaves nothing behind but a log line."""
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return None
    actor = await rt.call(access.identify, rt.engine, user.id, rt.admin_keys)
    if actor is None:
        log.info("refused unknown telegram user %s", user.id)
        lang = stranger_language(update)
        await answer(
            update, texts.render(lang, "access.unknown_user", plant=rt.settings.plant.name)
        )
        return None
    if not allowed(actor.role, required):
        role = texts.render(actor.language, f"roles.{required.name.lower()}")
        await answer(update, texts.render(actor.language, "access.not_allowed", role=role))
        return None
    return actor


ESCALATION_JOB = "escalation"


def wake_escalation(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run the escalation pass now (a block notifies the leader at once, not at the next
    tick). The pass itself decides; this only brings it forward."""
    jobs = context.application.job_queue
    if jobs is None:
        return
    for job in jobs.get_jobs_by_name(ESCALATION_JOB):
        job.job.modify(next_run_time=datetime.now(UTC))
