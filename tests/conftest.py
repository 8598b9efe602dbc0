"""Shared fixtures: a migrated database on SQLite and, where reachable, on PostgreSQL.

The PostgreSQL variant runs each test in a fresh schema of the ``test`` database on
127.0.0.1:5432 (override with EXECBOT_TEST_POSTGRES_URL); where no server answers, those tests
are skipped with the reason printed in pytest's summary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.store import migrate
from bot.store.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ORG = ROOT / "examples" / "plant.toml"
POSTGRES_URL = os.environ.get(
    "EXECBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

_postgres_problem: str | None = None


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None if it can (asked once per run)."""
    global _postgres_problem
    if _postgres_problem is None:
        try:
            engine = make_engine(POSTGRES_URL)
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            _postgres_problem = ""
        except Exception as exc:  # any failure to connect means: skip, and say why
            _postgres_problem = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0]
    return _postgres_problem or None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'execbot.db'}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh, empty schema of the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database URL on each backend."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def empty_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, once per worker: tests copy it."""
    path = tmp_path_factory.mktemp("template") / "execbot.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:  # everything into the main file: the copy takes it all
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture
def engine(db_url: str, template_db: Path) -> Iterator[Engine]:
    """A database migrated to the newest schema (on SQLite, a copy of the template)."""
    if db_url.startswith("sqlite:///"):
        shutil.copyfile(template_db, db_url.removeprefix("sqlite:///"))
    engine = make_engine(db_url)
    if not db_url.startswith("sqlite:///"):
        migrate.upgrade(engine)
    yield engine
    engine.dispose()


SLOW_FIRST = (
    "tests/e2e/test_demo_browser.py",
    "tests/e2e/",
    "tests/adapters/test_forged_input.py",  # paced: about 20 s of Telegram's limits
    "tests/adapters/",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the longest tests first (the browser demo, then the other end-to-end tests, then
    the in-process adapter ones): with parallel workers the run then ends when the short tests
    have filled the gaps, not when a long test picked up last finishes alone. The order is the
    same on every worker, as pytest-xdist requires."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((i for i, p in enumerate(SLOW_FIRST) if path.startswith(p)), len(SLOW_FIRST))

    items.sort(key=rank)
