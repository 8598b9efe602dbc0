"""The supervision figures (``models.figures``) of people and units for a period of plant
days, counted by the database: GROUP BY over CASE expressions, the same on SQLite and
PostgreSQL. No occurrence is loaded into Python; what comes back is one row per person or
per unit.

The CASE expressions here are the SQL form of ``models.figures.classify``, rule for rule
(tests/services/test_figures.py checks that the two agree on every case). What an
occurrence's replies say (the kind of its latest reply, the promise of its latest "later",
the category of its latest block that named one) comes from one grouped pass over the
period's replies, then those replies by primary key.

A unit's figures cover its whole subtree: a recursive query pairs every unit with each unit
below it (itself included), and the per-unit sums of the people now in each unit are added
up along those pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, case, func, literal, or_, true
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.figures import DONE, FIELDS, NOT_YET, UNCOUNTED, Facts, Figures
from models.replies import TRIANGLE
from models.status import Status
from models.tables import Occurrence, Person, Reply, Unit


def _rows(start: date, end: date, person_id: int | None = None) -> Any:
    """A derived table: per counted occurrence of the period, the columns its figures
    depend on (``models.figures.Facts``), with its person and their unit. What its replies
    say comes from one grouped pass over the period's replies (the ids of the latest reply,
    of the latest "later" and of the latest block that named a category), then those
    replies by primary key. ``person_id``: that person's occurrences only."""
    day: ColumnElement[bool] = col(Occurrence.day).between(start, end)
    if person_id is not None:
        day = and_(day, col(Occurrence.person_id) == person_id)
    reply_id, kind = col(Reply.id), col(Reply.kind)
    answers = (
        sa_select(
            col(Reply.occurrence_id).label("occurrence_id"),
            func.max(reply_id).label("last_id"),
            func.max(case((kind == "later", reply_id))).label("later_id"),
            func.max(
                case((and_(kind == "blocked", col(Reply.category).is_not(None)), reply_id))
            ).label("block_id"),
        )
        .join(Occurrence, col(Occurrence.id) == col(Reply.occurrence_id))
        .where(day)
        .group_by(col(Reply.occurrence_id))
        .subquery("answers")
    )
    last, later, block = aliased(Reply), aliased(Reply), aliased(Reply)
    status = col(Occurrence.status)
    return (
        sa_select(
            col(Occurrence.person_id).label("person_id"),
            col(Person.unit_id).label("unit_id"),
            status.label("status"),
            col(Occurrence.status_at).label("status_at"),
            col(Occurrence.due_at).label("due_at"),
            col(Occurrence.escalation_ended).label("escalation_ended"),
            col(Occurrence.next_step_at).label("next_step_at"),
            col(later.new_due_at).label("promised_at"),
            col(last.kind).label("last_answer"),
            col(block.category).label("block_category"),
        )
        .join(Person, col(Person.id) == col(Occurrence.person_id))
        .outerjoin(answers, answers.c.occurrence_id == col(Occurrence.id))
        .outerjoin(last, col(last.id) == answers.c.last_id)
        .outerjoin(later, col(later.id) == answers.c.later_id)
        .outerjoin(block, col(block.id) == answers.c.block_id)
        .where(day, status.not_in([s.value for s in UNCOUNTED]))
        .subquery("rows")
    )


def _facts(start: date, end: date, now: datetime) -> Any:
    """A derived table: per counted occurrence of the period, its person and unit and a
    0/1 column per figure (the rules of ``models.figures.classify``)."""
    r = _rows(start, end).c
    status, due_at, promised = r.status, r.due_at, r.promised_at
    # on time: done by the deadline (the due time, or a later promise when after it)
    kept = or_(r.status_at <= due_at, and_(promised.is_not(None), r.status_at <= promised))
    past_deadline = and_(due_at < now, or_(promised.is_(None), promised < now))
    over = or_(r.escalation_ended == true(), and_(r.next_step_at.is_(None), past_deadline))
    done = status.in_([s.value for s in DONE])
    not_yet = status.in_([s.value for s in NOT_YET])

    def flag(condition: ColumnElement[bool]) -> Any:
        return case((condition, literal(1)), else_=literal(0))

    blocked = r.last_answer == "blocked"
    process = [c.value for c, side in TRIANGLE.items() if side == "process"]
    skill = [c.value for c, side in TRIANGLE.items() if side == "skill"]
    columns = {
        "due": literal(1),
        "on_time": flag(and_(done, kept)),
        "late": flag(and_(done, ~kept)),
        "not_done": flag(and_(not_yet, over)),
        "open": flag(and_(not_yet, ~over)),
        "blocked_process": flag(and_(blocked, r.block_category.in_(process))),
        "blocked_skill": flag(and_(blocked, r.block_category.in_(skill))),
        "blocked_other": flag(
            and_(
                blocked,
                or_(r.block_category.is_(None), r.block_category.not_in(process + skill)),
            )
        ),
        "unresolved": flag(and_(status == Status.BLOCKED.value, over)),
        "false_execution": literal(0),
        "excused": flag(status == Status.EXCUSED.value),
        "absent": flag(status == Status.ABSENT.value),
    }
    assert tuple(columns) == FIELDS
    return sa_select(
        r.person_id, r.unit_id, *(value.label(name) for name, value in columns.items())
    ).subquery("facts")


def _figures(row: Sequence[Any]) -> Figures:
    return Figures(*(int(value or 0) for value in row))


def _check(start: date, end: date) -> None:
    if start > end:
        raise ValueError(f"period: {start.isoformat()} is after {end.isoformat()}")


def person_figures(
    session: Session,
    start: date,
    end: date,
    now: datetime,
    person_ids: Sequence[int] | None = None,
) -> dict[int, Figures]:
    """Each person's figures for the days ``start`` to ``end`` (both included), as of
    ``now``. ``person_ids``: those people, each in the result (zero figures for none);
    None: every person with an occurrence in the period."""
    _check(start, end)
    facts = _facts(start, end, now)
    query = sa_select(facts.c.person_id, *(func.sum(facts.c[n]) for n in FIELDS)).group_by(
        facts.c.person_id
    )
    if person_ids is not None:
        if not person_ids:
            return {}
        query = query.where(facts.c.person_id.in_(list(person_ids)))
    found = {int(row[0]): _figures(row[1:]) for row in session.execute(query).all()}
    if person_ids is not None:
        return {pid: found.get(pid, Figures()) for pid in person_ids}
    return found


def unit_figures(
    session: Session,
    start: date,
    end: date,
    now: datetime,
    unit_ids: Sequence[int] | None = None,
) -> dict[int, Figures]:
    """Each unit's figures for the days ``start`` to ``end`` (both included), as of ``now``,
    over its whole subtree. ``unit_ids``: those units; None: every unit. Every stored unit
    asked for is in the result (zero figures when its subtree had nothing due)."""
    _check(start, end)
    if unit_ids is not None and not unit_ids:
        return {}
    # (top, unit): every unit paired with itself and each unit below it
    base: Select[Any, Any] = sa_select(col(Unit.id).label("top"), col(Unit.id).label("unit"))
    if unit_ids is not None:
        base = base.where(col(Unit.id).in_(list(unit_ids)))
    pairs = base.cte("subtree", recursive=True)
    child = aliased(Unit)
    pairs = pairs.union_all(
        sa_select(pairs.c.top, col(child.id)).where(col(child.parent_id) == pairs.c.unit)
    )
    facts = _facts(start, end, now)
    per_unit = (
        sa_select(facts.c.unit_id, *(func.sum(facts.c[n]).label(n) for n in FIELDS))
        .group_by(facts.c.unit_id)
        .subquery("per_unit")
    )
    query = (
        sa_select(
            pairs.c.top,
            *(func.coalesce(func.sum(per_unit.c[n]), 0).cast(Integer) for n in FIELDS),
        )
        .select_from(pairs.outerjoin(per_unit, per_unit.c.unit_id == pairs.c.unit))
        .group_by(pairs.c.top)
    )
    return {int(row[0]): _figures(row[1:]) for row in session.execute(query).all()}


def person_facts(session: Session, person_id: int, start: date, end: date) -> list[Facts]:
    """The facts (``models.figures.Facts``) of one person's counted occurrences of the days
    ``start`` to ``end``, by due time: for what is decided per occurrence in order (the
    on-time streak of ``/me``), a few hundred rows at most."""
    _check(start, end)
    r = _rows(start, end, person_id).c
    query = sa_select(
        r.status, r.due_at, r.status_at, r.escalation_ended, r.next_step_at,
        r.promised_at, r.last_answer, r.block_category,
    ).order_by(r.due_at)  # fmt: skip
    return [
        Facts(
            status=row.status, due_at=row.due_at, status_at=row.status_at,
            escalation_ended=bool(row.escalation_ended), next_step_at=row.next_step_at,
            promised_at=row.promised_at, last_answer=row.last_answer,
            block_category=row.block_category,
        )
        for row in session.execute(query).all()
    ]  # fmt: skip
