"""Start-up end to end: a slow or unreachable Bot API at start, and what the bot does then."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.harness import World, world
from tests.e2e.test_nudges import nudge_counts, prepare_wave


def long_plan_every(w: World) -> None:
    """The harness config, planning only every 10 minutes (the default)."""
    path = w.write_config()
    path.write_text(path.read_text().replace('plan_every = "1m"', 'plan_every = "10m"'))


def test_item4_slow_start_still_plans_and_nudges_at_once(tmp_path: Path) -> None:
    people, first = 3, 30_000
    chats = range(first, first + people)
    with world(tmp_path) as w:
        long_plan_every(w)
        prepare_wave(w, people, first)
        # Telegram slow at start: getMe (initialize and post_init) and setMyCommands take 2 s each.
        w.client.add_fault("delay", method="getMe", seconds=2, count=2)
        w.client.add_fault("delay", method="setMyCommands", seconds=2)
        started = time.monotonic()
        w.start_bot(EXECBOT_CLOCK_START="2026-11-17T07:00:00+01:00")  # nudges due now
        w.wait_ready(w.bots[-1])
        ready = time.monotonic()
        assert ready - started > 5, "the start-up must have been slow"
        w.wait("every person nudged", lambda: all(nudge_counts(w, chats).values()), timeout=15)
        assert time.monotonic() - ready < 5, "planned and nudged within seconds of readiness"
        assert w.client.faults() == []
