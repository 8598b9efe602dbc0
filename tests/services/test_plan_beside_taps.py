"""A planning pass never holds up a tap (issue 12, "bigger plants"), on SQLite, where one
writer at a time may write: the pass commits its rows a chunk at a time, so a tap's reply is
stored while the pass is still writing, after one chunk at most, not after the whole plan.

The pass runs in a thread, as ``Runtime.call`` runs it; the tap is recorded from another
thread as soon as the pass's first rows are committed. A pass that held the write lock from
its first row to its last could not let the reply in before all its rows were committed: the
test checks that the pass committed rows after the reply did.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot import callbacks
from bot.services import planning, replies
from bot.services.org_import import import_org
from bot.store import planning as plan_store
from bot.store.engine import make_engine
from models.replies import Action
from models.tables import Occurrence
from tests.services.test_escalation_service import (
    CHATS,
    ORG,
    build,
    duty,
    local,
    occurrence,
    settings,
    start_day,
)

CROWD = 400  # people with three duties each: about 1,200 rows a day


def crowd() -> str:
    lines = ['[[units]]\nkey = "crowd"\nname = "Crowd"\nkind = "team"\nparent = "shop"\n']
    for i in range(CROWD):
        lines.append(f'[[people]]\nkey = "c{i}"\nname = "C {i}"\nunit = "crowd"\npost = "op"\n')
        for j in range(3):
            lines.append(
                f'[[duties]]\nkey = "c{i}-{j}"\ntitle = "Duty {j}"\nassignee = "c{i}"\n'
                f'schedule = "daily"\nnudge = "{8 + j}:00"\ndue = "+2h"\n'
            )
    return "\n".join(lines)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Occurrence)).scalar_one())


def test_a_reply_is_stored_while_a_big_plan_pass_is_writing(
    sqlite_url: str, template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(template_db, sqlite_url.removeprefix("sqlite:///"))
    engine = make_engine(sqlite_url)
    try:
        s = settings()
        build(engine, tmp_path, duty("reading", "w1"))
        start_day(engine, s, local("06:00"), local("07:00"))  # w1's nudge went out
        occ_id = occurrence(engine, "reading").id
        path = tmp_path / "bigger.toml"
        path.write_text(ORG + "\n" + duty("reading", "w1") + "\n" + crowd())
        assert import_org(engine, [path], local("07:01"), dry_run=False).problems == []
        monkeypatch.setattr(plan_store, "WRITE_CHUNK", 50)  # many chunks: a long write phase
        before = count(engine)

        result: list[planning.PlanResult] = []
        pass_ = threading.Thread(
            target=lambda: result.append(planning.plan(engine, s, local("07:02"))), name="plan"
        )
        pass_.start()
        while count(engine) == before and pass_.is_alive():
            time.sleep(0.005)  # reading never waits in WAL mode
        started_during_pass = pass_.is_alive()
        began = time.perf_counter()
        tap = replies.Incoming(CHATS["w1"], 90, 9, local("07:05"))
        data = callbacks.encode(callbacks.Answer(Action.DONE, occ_id))
        outcome = replies.tap(engine, s, tap, data)
        waited = time.perf_counter() - began
        committed_at_reply = count(engine)
        pass_.join(timeout=120)

        assert outcome.recorded and occurrence(engine, "reading").status == "done"
        assert started_during_pass, "the pass committed nothing before it ended"
        assert result and result[0].created == count(engine) - before > 2 * CROWD
        # the pass went on committing after the reply was stored: it did not hold the lock
        assert committed_at_reply < count(engine), (committed_at_reply, count(engine))
        assert waited < 5.0, f"the reply waited {waited:.2f} s"
    finally:
        engine.dispose()
