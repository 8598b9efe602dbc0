"""Passes run once across instances: two applications on one PostgreSQL database, each with
its own runtime (its own instance id), run the same periodic pass; the one holding ``pass:<name>``
runs it, the other skips; when the holder is gone (its lease expired) the other runs it; a
pass woken on purpose (a block: ``wake_escalation``) runs on any instance. On SQLite (one
instance) there is no lease: every pass runs."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram.ext import CallbackContext, Job

from bot import config
from bot.app import build_application
from bot.context import App, Context
from bot.delivery.lease import wall_now
from bot.metrics import REGISTRY
from bot.runtime import Runtime
from bot.services import org_import
from bot.store import migrate
from bot.store.engine import make_engine
from models.tables import Lease, Occurrence
from sandbox.server import DEFAULT_TOKEN
from scheduler import jobs
from tests.adapters.harness import BASE_CONFIG, FakeClock, _merge
from tests.adapters.org import CONFIG, ORG, START


@dataclass
class Plant:
    """The adapter tests' org on a database, and the settings; no sandbox (nothing is sent)."""

    engine: Engine
    settings: config.Settings
    clock: FakeClock

    @property
    def runtime(self) -> Runtime:  # a new instance id each time, as each process has
        return Runtime(self.settings, self.engine, self.clock)


def plant_on(url: str, root: Path) -> Plant:
    engine = make_engine(url)
    migrate.upgrade(engine)
    raw = tomllib.loads(BASE_CONFIG)
    _merge(raw, tomllib.loads(CONFIG))
    raw["database"] = {"url": url}
    settings = config.parse(raw, source="test")
    clock = FakeClock(START)
    (root / "org.toml").write_text(ORG)
    result = org_import.import_org(
        engine, [root / "org.toml"], clock(), dry_run=False, policies=settings.escalation.policies
    )
    assert result.written and not result.problems, result.report()
    return Plant(engine, settings, clock)


@pytest.fixture
def h(postgres_url: str, tmp_path: Path) -> Iterator[Plant]:
    plant = plant_on(postgres_url, tmp_path)
    yield plant
    plant.engine.dispose()


def ran(name: str) -> float:
    return REGISTRY.get_sample_value("execbot_pass_seconds_count", {"name": name}) or 0.0


def expire(h: Plant, name: str) -> None:
    """The holder died long enough ago: its lease ran out."""
    with Session(h.engine) as session:
        session.execute(
            update(Lease)
            .where(col(Lease.name) == name)
            .values(expires_at=wall_now() - timedelta(seconds=1))
        )
        session.commit()


def table(h: Plant) -> dict[str, tuple[jobs.Pass, timedelta]]:
    return {name: (run, every) for run, every, name in jobs.passes(h.settings.nudges)}


async def run(app: App, h: Plant, name: str, job: Job[Context] | None = None) -> bool:
    callback, every = table(h)[name]
    context = CallbackContext.from_job(job, app) if job is not None else CallbackContext(app)
    return await jobs.run_leased(context, callback, name, every)


async def test_one_instance_runs_a_pass_the_other_skips_then_takes_over(h: Plant) -> None:
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


async def test_a_woken_escalation_pass_runs_without_the_lease(h: Plant) -> None:
    a = build_application(h.runtime, DEFAULT_TOKEN)
    b = build_application(h.runtime, DEFAULT_TOKEN)
    assert await run(a, h, jobs.ESCALATION_JOB)
    assert not await run(b, h, jobs.ESCALATION_JOB)

    callback, _ = table(h)[jobs.ESCALATION_JOB]
    job: Job[Context] = Job(callback, data=jobs.Wake(now=True), name="escalation")
    assert await run(b, h, jobs.ESCALATION_JOB, job)  # a block on b: at once, on b
    assert not await run(b, h, jobs.ESCALATION_JOB, job)  # the next tick is an ordinary one
    with Session(h.engine) as session:
        lease = session.get(Lease, f"pass:{jobs.ESCALATION_JOB}")
        assert lease is not None and lease.holder == a.bot_data.runtime.instance


async def test_on_sqlite_every_pass_runs_without_a_lease(tmp_path: Path, sqlite_url: str) -> None:
    h = plant_on(sqlite_url, tmp_path)
    a = build_application(h.runtime, DEFAULT_TOKEN)
    b = build_application(h.runtime, DEFAULT_TOKEN)
    assert await run(a, h, "plan")
    assert await run(b, h, "plan")
    with Session(h.engine) as session:
        assert session.get(Lease, "pass:plan") is None
    h.engine.dispose()


def test_a_pass_lease_is_three_intervals_and_at_least_the_minimum() -> None:
    minimum = timedelta(seconds=30)
    assert jobs.lease_ttl(timedelta(seconds=1), minimum) == minimum
    assert jobs.lease_ttl(timedelta(seconds=15), minimum) == timedelta(seconds=45)
