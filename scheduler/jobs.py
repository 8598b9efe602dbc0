"""Periodic passes, run by python-telegram-bot's JobQueue (APScheduler underneath).

Each job is a thin, idempotent "do what is due by now": every due time lives in the database,
so a restart, a missed tick or a second instance loses nothing and repeats nothing. The jobs
only turn time into service calls; the services decide.

With several instances on one (PostgreSQL) database each pass runs on one of them: the job takes (or
renews) the lease ``pass:<name>`` before it runs, and an instance that does not hold it skips
that run. The lease lasts three intervals (at least ``[instances] pass_lease_min``), so when
its holder dies another instance runs the pass within that time. Correctness never depends on
the lease (it only saves repeated work and lock contention): an escalation pass brought forward
by ``wake_escalation`` runs on the instance that woke it, lease or not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from bot.config import NudgeSettings
from bot.context import App, Context
from bot.delivery import lease
from bot.metrics import PASS_SECONDS
from bot.render.english import counted
from bot.services import digest, escalation, menus, nudging, planning, reports, weekly

log = logging.getLogger(__name__)
ESCALATION_JOB = "escalation"
WEEKLY_EVERY = timedelta(minutes=1)  # the precision of [reports] weekly_at
WAKE_GAP = 1.0  # seconds from one woken escalation pass to the start of the next
Pass = Callable[[Context], Coroutine[Any, Any, None]]


async def plan_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    await rt.call(planning.plan, rt.engine, rt.settings, rt.clock())
    # An org import may have made a leader or changed a language: their menus follow, in the
    # background (Telegram is called only for a menu that changed).
    menus.start_refresh(rt, context.bot)


async def nudge_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    result = await rt.call(nudging.queue_due, rt.engine, rt.settings, rt.clock())
    if result.messages:
        log.info("queued %s", counted(result.messages, "nudge message"))
        context.bot_data.sender.wake()


async def escalation_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    async with context.bot_data.escalation.lock:  # the tick and a woken run take turns
        result = await rt.call(escalation.advance, rt.engine, rt.settings, rt.clock())
    if result.messages or result.steps:
        log.info(
            "escalation: %s, %s",
            counted(result.steps, "step"),
            counted(result.messages, "message"),
        )
        context.bot_data.sender.wake()


async def reports_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    if await rt.call(reports.unreachable, rt.engine, rt.settings, rt.clock()):
        context.bot_data.sender.wake()


async def weekly_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    if await rt.call(weekly.queue_due, rt.engine, rt.settings, rt.clock()):
        context.bot_data.sender.wake()


async def dead_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    if await rt.call(reports.dead, rt.engine, rt.settings, rt.clock()):
        context.bot_data.sender.wake()


async def digest_pass(context: Context) -> None:
    rt = context.bot_data.runtime
    if await rt.call(digest.send_due, rt.engine, rt.settings, rt.clock()):
        context.bot_data.sender.wake()


def lease_ttl(interval: timedelta, minimum: timedelta) -> timedelta:
    return max(interval * 3, minimum)


async def run_leased(context: Context, callback: Pass, name: str, interval: timedelta) -> bool:
    """Run one pass if this instance holds (or now takes) the lease ``pass:<name>``; False
    when another instance holds it (the run is skipped)."""
    rt = context.bot_data.runtime
    if lease.several_instances(rt.engine):
        ttl = lease_ttl(interval, rt.settings.instances.pass_lease_min)
        mine = await asyncio.to_thread(lease.take, rt.engine, f"pass:{name}", rt.instance, ttl)
        if not mine:
            log.debug("%s pass skipped: another instance runs it", name)
            return False
    await observed(context, callback, name)
    return True


async def observed(context: Context, callback: Pass, name: str) -> None:
    """Run a pass and record its duration (``execbot_pass_seconds``)."""
    started = time.perf_counter()
    try:
        await callback(context)
    finally:
        PASS_SECONDS.labels(name).observe(time.perf_counter() - started)


def job_for(callback: Pass, name: str, interval: timedelta) -> Pass:
    """The job queue's callback for a pass: the pass under its lease."""

    async def job(context: Context) -> None:
        await run_leased(context, callback, name, interval)

    job.__name__ = callback.__name__
    return job


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
        for first_pass, interval, name in passes(settings):
            try:
                await run_leased(context, first_pass, name, interval)
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
        (digest_pass, settings.tick, "digest"),
        (weekly_pass, WEEKLY_EVERY, "weekly"),
    ]


def repeat(context: Context) -> None:
    jobs = context.application.job_queue
    assert jobs is not None
    # A pass that starts late (a slow disk, a long pass) still runs, once: every pass does
    # "what is due by now", so lateness only delays, and a skipped run would skip work.
    late_ok: dict[str, object] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    for callback, interval, name in passes(context.bot_data.runtime.settings.nudges):
        jobs.run_repeating(
            job_for(callback, name, interval),
            interval=interval,
            first=interval,
            name=name,
            job_kwargs=late_ok,
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
    woken.task = context.application.create_task(woken_runs(context), name="escalation-wake")


async def woken_runs(context: Context) -> None:
    """Run the pass; again while wakes came meanwhile, each run at least ``WAKE_GAP`` after
    the one before: a storm of blocks costs at most a pass a second, and each block still
    reaches its leader within about a second. A woken run takes no lease: it runs on the
    instance the block came to."""
    woken = context.bot_data.escalation
    loop = asyncio.get_running_loop()
    while True:
        woken.again = False
        woken.runs += 1
        started = loop.time()
        try:
            await observed(context, escalation_pass, ESCALATION_JOB)
        except Exception:
            log.exception("a woken escalation pass failed; its next tick runs it again")
        if not woken.again:
            return
        await asyncio.sleep(max(0.0, started + WAKE_GAP - loop.time()))
