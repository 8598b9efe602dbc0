"""A new SQLite database is the owner's only: the file and its -wal are 0600 (issue 10, item 16;
moved here from the end-to-end reply test, where ``execbot org import`` created the file)."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.store import migrate
from bot.store.engine import make_engine


def test_a_new_sqlite_file_and_its_wal_are_the_owners_only(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'execbot.db'}")
    try:
        migrate.upgrade(engine)
        with engine.connect():  # the -wal lives while a connection is open
            for name in ("execbot.db", "execbot.db-wal"):
                mode = stat.S_IMODE((tmp_path / "data" / name).stat().st_mode)
                assert mode == 0o600, (name, oct(mode))
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    finally:
        engine.dispose()
