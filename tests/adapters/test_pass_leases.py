"""Passes run once across instances: two applications on one database, each with its own
runtime (its own instance id), run the same periodic pass; the one holding ``pass:<name>``
runs it, the other skips; when the holder is gone (its lease expired) the other runs it; a
pass woken on purpose (a block: ``wake_escalation``) runs on any instance."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select
from telegram.ext import CallbackContext, Job

from bot.app import build_application
from bot.context import App
from bot.delivery.lease import wall_now
from bot.metrics import REGISTRY
from models.tables import Lease, Occurrence
from sandbox.server import DEFAULT_TOKEN
from scheduler import jobs
from tests.adapters.harness import Harness


def ran(name: str) -> float:
    return REGISTRY.get_sample_value("execbot_pass_seconds_count", {"name": name}) or 0.0


def expire(h: Harness, name: str) -> None:
    """The holder died long enough ago: its lease ran out."""
    with Session(h.engine) as session:
        session.execute(
            update(Lease)
            .where(col(Lease.name) == name)
            .values(expires_at=wall_now() - timedelta(seconds=1))
        )
        session.commit()


def table(h: Harness) -> dict[str, tuple[jobs.Pass, timedelta]]:
    return {name: (run, every) for run, every, name in jobs.passes(h.settings.nudges)}


async def run(app: App, h: Harness, name: str, job: Job[CallbackContext] | None = None) -> bool:  # type: ignore[type-arg]
    callback, every = table(h)[name]
    context = CallbackContext.from_job(job, app) if job is not None else CallbackContext(app)
    return await jobs.run_leased(context, callback, name, every)


async def test_one_instance_runs_a_pass_the_other_skips_then_takes_over(h: Harness) -> None:
    a = build_application(h.runtime, DEFAULT_TOKEN)
    b = build_application(h.runtime, DEFAULT_TOKEN)
    assert a.bot_data.runtime.instance != b.bot_data.runtime.instance
    before = ran("plan")

    assert await run(a, h, "plan")
    with Session(h.engine) as session:
        assert session.exec(select(Occurrence)).first() is not None  # a really planned
        lease = session.get(Lease, "pass:plan")
        assert lease is not None and lease.holder == a.bot_data.runtime.instance
        assert lease.expires_at - lease.acquired_at == timedelta(hours=3)  # 3 x plan_every
    assert not await run(b, h, "plan")
    assert await run(a, h, "plan")  # the holder renews and runs again
    assert ran("plan") == before + 2  # the skipped run is not observed

    expire(h, "pass:plan")  # a is gone
    assert await run(b, h, "plan")
    assert not await run(a, h, "plan")
    assert ran("plan") == before + 3


async def test_a_woken_escalation_pass_runs_without_the_lease(h: Harness) -> None:
    a = build_application(h.runtime, DEFAULT_TOKEN)
    b = build_application(h.runtime, DEFAULT_TOKEN)
    assert await run(a, h, jobs.ESCALATION_JOB)
    assert not await run(b, h, jobs.ESCALATION_JOB)

    callback, _ = table(h)[jobs.ESCALATION_JOB]
    job: Job[CallbackContext] = Job(callback, data=jobs.Wake(now=True), name="escalation")  # type: ignore[type-arg]
    assert await run(b, h, jobs.ESCALATION_JOB, job)  # a block on b: at once, on b
    assert not await run(b, h, jobs.ESCALATION_JOB, job)  # the next tick is an ordinary one
    with Session(h.engine) as session:
        lease = session.get(Lease, f"pass:{jobs.ESCALATION_JOB}")
        assert lease is not None and lease.holder == a.bot_data.runtime.instance


def test_a_pass_lease_is_three_intervals_and_at_least_the_minimum() -> None:
    minimum = timedelta(seconds=30)
    assert jobs.lease_ttl(timedelta(seconds=1), minimum) == minimum
    assert jobs.lease_ttl(timedelta(seconds=15), minimum) == timedelta(seconds=45)
