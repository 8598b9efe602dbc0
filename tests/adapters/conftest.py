"""Fixtures for the adapter tests: a migrated SQLite template (once per worker, copied per
test) and ``h``, the harness with the org imported and every person but Gus bound; the bot is
not started yet (``await h.start_bot()``), so a test may change the arrangement first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store import migrate
from bot.store.engine import make_engine
from tests.adapters.harness import Harness, harness
from tests.adapters.org import CHATS, CONFIG, ORG, START


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "execbot.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:  # everything into the main file: the copy takes it all
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


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
