"""Periodic passes, run by python-telegram-bot's JobQueue (APScheduler underneath).

Each job is a thin, idempotent "do what is due by now": every due time lives in the database,
so a restart, a missed tick or a second instance loses nothing and repeats nothing. The jobs
only turn time into service calls; the services decide.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot import escalation, nudging, planning, reports
from bot.runtime import Runtime
from bot.sender import Sender
from handlers.common import ESCALATION_JOB, runtime

log = logging.getLogger(__name__)
SENDER_KEY = "sender"


def sender(context: ContextTypes.DEFAULT_TYPE) -> Sender:
    value = context.application.bot_data[SENDER_KEY]
    assert isinstance(value, Sender)
    return value


async def plan_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    await rt.call(planning.plan, rt.engine, rt.settings, rt.clock())


async def nudge_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    result = await rt.call(nudging.queue_due, rt.engine, rt.settings, rt.clock())
    if result.messages:
        log.info("queued %d nudge message(s)", result.messages)
        sender(context).wake()


async def escalation_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    result = await rt.call(escalation.advance, rt.engine, rt.settings, rt.clock())
    if result.messages or result.steps:
        log.info("escalation: %d step(s), %d message(s)", result.steps, result.messages)
        sender(context).wake()


async def reports_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    if await rt.call(reports.unreachable, rt.engine, rt.settings, rt.clock()):
        sender(context).wake()


async def dead_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    if await rt.call(reports.dead, rt.engine, rt.settings, rt.clock()):
        sender(context).wake()


def register(app: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    jobs = app.job_queue
    assert jobs is not None, "install python-telegram-bot[job-queue]"
    settings = rt.settings.nudges
    # A pass that starts late (a busy start-up, a slow disk) still runs, once: every pass does
    # "what is due by now", so lateness only delays, and a skipped run would skip work.
    late_ok: dict[str, object] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    jobs.run_repeating(
        plan_pass, interval=settings.plan_every, first=0.1, name="plan", job_kwargs=late_ok
    )
    jobs.run_repeating(
        nudge_pass, interval=settings.tick, first=1.0, name="nudges", job_kwargs=late_ok
    )
    jobs.run_repeating(
        escalation_pass, interval=settings.tick, first=1.5, name=ESCALATION_JOB, job_kwargs=late_ok
    )
    jobs.run_repeating(
        reports_pass, interval=settings.plan_every, first=5.0, name="reports", job_kwargs=late_ok
    )
    jobs.run_repeating(
        dead_pass, interval=settings.tick, first=2.0, name="dead", job_kwargs=late_ok
    )
