"""A planning pass pauses Python's cyclic garbage collector while it runs (issue 12, "bigger
plants"): at 10,000 people the collector's walks over the pass's objects took a third of its
CPU, in pauses of up to half a second that held the interpreter lock, so the event loop (taps)
could not run. The pass must resume the collector when it ends, however it ends, leave it off
if it was off, and keep it paused until the last of two overlapping passes ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.services import planning
from bot.services.org_import import import_org
from models.planning import plan_range
from tests.conftest import EXAMPLE_ORG, NOW


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


def test_a_pass_plans_with_the_collector_paused_and_resumes_it(
    engine: Engine, collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False).written
    seen: list[bool] = []

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return plan_range(*args, **kwargs)  # type: ignore[arg-type]  # passed on as given

    monkeypatch.setattr(planning, "plan_range", watched)
    assert planning.plan(engine, Settings(), NOW).created > 0
    assert seen == [False]
    assert gc.isenabled()


def test_a_failing_pass_resumes_the_collector(
    engine: Engine, collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(planning, "plan_range", broken)
    with pytest.raises(RuntimeError):
        planning.plan(engine, Settings(), NOW)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(engine: Engine, collector_on: None) -> None:
    gc.disable()
    planning.plan(engine, Settings(), NOW)
    assert not gc.isenabled()


def test_overlapping_passes_resume_it_when_the_last_one_ends(collector_on: None) -> None:
    first_in, first_may_end = threading.Event(), threading.Event()
    during: list[bool] = []

    def first() -> None:
        with planning._collector.paused():
            first_in.set()
            first_may_end.wait(10)
            during.append(gc.isenabled())

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    with planning._collector.paused():
        pass
    assert not gc.isenabled()  # the first pass still runs
    first_may_end.set()
    thread.join(10)
    assert during == [False] and gc.isenabled()
