"""The planning lock on PostgreSQL: one instance plans at a time, per schema.

Found when the suite first ran in parallel workers: advisory locks are database-wide, so a
plan running in one schema of the ``test`` database made a plan in another schema skip its
work (nothing planned, no nudges). A plant sharing a database with another plant, each in its
own schema, would have met the same.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.config import Settings
from bot.services import planning
from bot.services.org_import import import_org
from bot.store import migrate
from bot.store.engine import make_engine
from bot.store.planning import try_planning_lock
from tests.conftest import EXAMPLE_ORG, NOW, postgres_schema


def test_planning_in_one_schema_never_waits_for_another(postgres_url: str) -> None:
    settings = Settings()
    ours = make_engine(postgres_url)
    with postgres_schema() as other_url:
        other = make_engine(other_url)
        try:
            for engine in (ours, other):
                migrate.upgrade(engine)
                assert import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False).written
            with Session(other) as holder:  # another plant's plan, in the middle of its work
                assert try_planning_lock(holder)
                assert planning.plan(ours, settings, NOW).created > 0
                with Session(other) as rival:  # a second instance of that plant waits its turn
                    assert not try_planning_lock(rival)
                    assert planning.plan(other, settings, NOW).created == 0
            assert planning.plan(other, settings, NOW).created > 0  # its turn, once released
        finally:
            other.dispose()
            ours.dispose()
