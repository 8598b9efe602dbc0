"""bot.store.figures.person_facts (what ``/me``'s streak reads): one person's occurrences of
a period, by due time, with the facts the rules need, read back from the database (SQLite
and PostgreSQL) as they were stored; nobody else's, no day outside the period, nothing
cancelled or reassigned."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.figures import person_facts
from models.figures import UNCOUNTED, Facts, classify, streak
from models.status import Status
from tests.core.test_figures_rules import CASES
from tests.core.test_figures_rules import NOW as RULES_NOW
from tests.services.test_figures import Plant, replies_of

DAY = timedelta(days=1)
FIRST = date(2026, 10, 25)


def shifted(facts: Facts, days: int) -> Facts:
    """The same case ``days`` later: every instant moved alike."""

    def move(at: datetime | None) -> datetime | None:
        return None if at is None else at + days * DAY

    return replace(
        facts, due_at=facts.due_at + days * DAY, status_at=facts.status_at + days * DAY,
        next_step_at=move(facts.next_step_at), promised_at=move(facts.promised_at),
    )  # fmt: skip


def test_one_persons_facts_come_back_as_stored(engine: Engine) -> None:
    p = Plant()
    p.add_unit("plant", None)
    p.add_person("ann", "plant")
    p.add_person("bob", "plant")
    stored = []
    # in reverse, so that the order read back is the database's (by due time), not the rows'
    for index, (_, facts, _) in reversed(list(enumerate(CASES))):
        case = shifted(facts, index)
        p.item("ann", FIRST + index * DAY, case.due_at, case.status, case.status_at,
               ended=case.escalation_ended, next_step=case.next_step_at,
               replies=replies_of(case))  # fmt: skip
        p.item("bob", FIRST + index * DAY, case.due_at, "done", case.due_at)
        stored.append(case)
    p.store(engine)
    last = FIRST + (len(CASES) - 1) * DAY
    with Session(engine) as session:
        found = person_facts(session, p.person["ann"], FIRST, last)
        first_two = person_facts(session, p.person["ann"], FIRST, FIRST + DAY)
    counted = sorted(
        (case for case in stored if Status(case.status) not in UNCOUNTED),
        key=lambda case: case.due_at,
    )
    assert len(found) == len(counted) < len(CASES)
    now = RULES_NOW + len(CASES) * DAY
    assert [classify(f, now) for f in found] == [classify(c, now) for c in counted]
    assert [(f.status, f.due_at, f.status_at) for f in found] == [
        (c.status, c.due_at, c.status_at) for c in counted
    ]
    assert streak(found, now) == streak(counted, now)
    in_first_two = [facts for _, facts, _ in CASES[:2] if Status(facts.status) not in UNCOUNTED]
    assert [f.status for f in first_two] == [f.status for f in in_first_two]
