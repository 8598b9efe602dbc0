"""Fixtures for the adapter tests (each copies ``template_db``, the migrated SQLite file of
tests/conftest.py): ``h`` is the harness with the org imported and every person but Gus bound;
the bot is not started yet (``await h.start_bot()``), so a test may change the arrangement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.harness import Harness, harness
from tests.adapters.org import CHATS, CONFIG, ORG, START


@pytest.fixture
async def bare(tmp_path: Path, template_db: Path) -> AsyncIterator[Harness]:
    """A harness with an empty (migrated) database and nobody in the sandbox."""
    async with harness(tmp_path, template_db, START, config_extra=CONFIG) as h:
        yield h
        assert h.expect_errors or not h.errors.records, h.errors.records


@pytest.fixture
async def paced(tmp_path: Path, template_db: Path) -> AsyncIterator[Harness]:
    """Like ``bare``, with Telegram's limits: the sandbox enforces them, the bot paces."""
    async with harness(tmp_path, template_db, START, config_extra=CONFIG, paced=True) as h:
        yield h
        assert h.expect_errors or not h.errors.records, h.errors.records


@pytest.fixture
async def h(bare: Harness) -> Harness:
    """The org imported; everyone but Gus bound to a chat the sandbox knows."""
    bare.import_org(ORG)
    await bare.bind(CHATS)
    return bare
