"""Periodic passes, run by python-telegram-bot's JobQueue (APScheduler underneath).

Each job is a thin, idempotent "do what is due by now": every due time lives in the database,
so a restart, a missed tick or a second instance loses nothing and repeats nothing. The jobs
only turn time into service calls; the services decide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from bot.config import NudgeSettings
from bot.context import App, Context
from bot.services import escalation, nudging, planning, reports

log = logging.getLogger(__name__)
ESCALATION_JOB = "escalation"
WAKE_GAP = 1.0  # seconds from one woken escalation pass to the start of the next
Pass = Callable[[Context], Coroutine[Any, Any, None]]


async def plan_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    await rt.call(planning.plan, rt.engine, rt.settings, rt.clock())


async def nudge_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    result = await rt.call(nudging.queue_due, rt.engine, rt.settings, rt.clock())
    if result.messages:
        log.info("queued %d nudge message(s)", result.messages)
        context.bot_data.sender.wake()


async def escalation_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    async with context.bot_data.escalation.lock:  # the tick and a woken run take turns
        result = await rt.call(escalation.advance, rt.engine, rt.settings, rt.clock())
    if result.messages or result.steps:
        log.info("escalation: %d step(s), %d message(s)", result.steps, result.messages)
        context.bot_data.sender.wake()


async def reports_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    if await rt.call(reports.unreachable, rt.engine, rt.settings, rt.clock()):
        context.bot_data.sender.wake()


async def dead_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    if await rt.call(reports.dead, rt.engine, rt.settings, rt.clock()):
        context.bot_data.sender.wake()


def register(app: App) -> None:
    """Run every pass once as soon as the bot is ready (the JobQueue starts last, whatever
    start-up took), then repeat them. A repeating job registered now with a first run a moment
    away would be moved a whole interval on by APScheduler when start-up takes longer."""
    jobs = app.job_queue
    assert jobs is not None, "install python-telegram-bot[job-queue]"
    jobs.run_once(start_passes, when=0, name="start", job_kwargs={"misfire_grace_time": None})


async def start_passes(context: Context) -> None:
    """Plan, nudge, escalate and report once, in that order, then schedule the repeats."""
    settings = context.bot_data.runtime.settings.nudges
    try:
        for first_pass, _, _ in passes(settings):
            try:
                await first_pass(context)
            except Exception:
                log.exception(
                    "the first %s failed; it runs again at its next tick", first_pass.__name__
                )
    finally:
        repeat(context)


def passes(settings: NudgeSettings) -> list[tuple[Pass, timedelta, str]]:
    """Every periodic pass, its interval and its job name, in the order they first run."""
    return [
        (plan_pass, settings.plan_every, "plan"),
        (nudge_pass, settings.tick, "nudges"),
        (escalation_pass, settings.tick, ESCALATION_JOB),
        (reports_pass, settings.plan_every, "reports"),
        (dead_pass, settings.tick, "dead"),
    ]


def repeat(context: Context) -> None:
    jobs = context.application.job_queue
    assert jobs is not None
    # A pass that starts late (a slow disk, a long pass) still runs, once: every pass does
    # "what is due by now", so lateness only delays, and a skipped run would skip work.
    late_ok: dict[str, object] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    for callback, interval, name in passes(context.bot_data.runtime.settings.nudges):
        jobs.run_repeating(
            callback, interval=interval, first=interval, name=name, job_kwargs=late_ok
        )


def wake_escalation(context: Context) -> None:
    """Run the escalation pass now, not at its next tick (a block notifies the leader at
    once). Cheap and coalesced: while a woken run is in flight, any number of wakes queue one
    more run after it, no more (a run reads everything due by then, so one run serves every
    wake before it). The pass itself decides; this only brings it forward. Nothing when the
    passes are not scheduled (the adapter harness runs them by hand)."""
    woken = context.bot_data.escalation
    if woken.task is not None and not woken.task.done():
        woken.again = True
        return
    jobs = context.application.job_queue
    if jobs is None or not jobs.get_jobs_by_name(ESCALATION_JOB):
        return
    woken.task = context.application.create_task(_woken_runs(context), name="escalation-wake")


async def _woken_runs(context: Context) -> None:
    """Run the pass; again while wakes came meanwhile, each run at least ``WAKE_GAP`` after
    the one before: a storm of blocks costs at most a pass a second, and each block still
    reaches its leader within about a second."""
    woken = context.bot_data.escalation
    loop = asyncio.get_running_loop()
    while True:
        woken.again = False
        woken.runs += 1
        started = loop.time()
        try:
            await escalation_pass(context)
        except Exception:
            log.exception("a woken escalation pass failed; its next tick runs it again")
        if not woken.again:
            return
        await asyncio.sleep(max(0.0, started + WAKE_GAP - loop.time()))
