"""Planning and the agenda: the facts the planner reads, the plan written, the nudges due,
and a person's list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import chunked
from models.nudging import DueNudge
from models.planning import PlannedOccurrence
from models.replan import Reconciliation, StoredOccurrence
from models.tables import Duty, Occurrence, OrgSection, Person


@dataclass(frozen=True, slots=True)
class PlanningFacts:
    """Plain rows (not ORM objects: planning reads tens of thousands), with the attributes of
    ``Person`` and ``Duty``."""

    people: Sequence[Any]
    duties: Sequence[Any]
    shifts: dict[str, Any]


def planning_facts(session: Session) -> PlanningFacts:
    person, duty = Person.__table__, Duty.__table__  # type: ignore[attr-defined]
    people = session.execute(sa_select(person).where(person.c.active)).all()
    duties = session.execute(sa_select(duty).where(duty.c.active)).all()
    section = session.get(OrgSection, "shifts")
    return PlanningFacts(people, duties, dict(section.data) if section else {})


def stored_occurrences(session: Session, days: Sequence[date]) -> list[StoredOccurrence]:
    query = sa_select(
        col(Occurrence.id),
        col(Occurrence.duty_id),
        col(Occurrence.person_id),
        col(Occurrence.day),
        col(Occurrence.number),
        col(Occurrence.nudge_at),
        col(Occurrence.due_at),
        col(Occurrence.status),
        col(Occurrence.nudge_state),
    ).where(col(Occurrence.day).in_(days))
    return [StoredOccurrence(*row) for row in session.execute(query).all()]


def write_plan(
    session: Session,
    plan: Reconciliation,
    now: datetime,
    extras: Callable[[PlannedOccurrence, str], dict[str, Any]],
    replanned: Callable[[Occurrence], None],
) -> None:
    """Insert the new occurrences (``extras`` adds the escalation snapshot of each) and apply
    the re-plans (``replanned`` re-schedules each changed row's escalation)."""
    if plan.create:
        session.execute(
            insert(Occurrence.__table__),  # type: ignore[attr-defined]  # Core: no ORM bookkeeping
            [
                {
                    "duty_id": new.planned.duty_id,
                    "person_id": new.planned.person_id,
                    "day": new.planned.day,
                    "number": new.number,
                    "nudge_at": new.planned.nudge_at,
                    "due_at": new.planned.due_at,
                    "status": new.status,
                    "status_at": now,
                    "nudge_state": "pending",
                    "created_at": now,
                }
                | extras(new.planned, new.status)
                for new in plan.create
            ],
        )
    for change in plan.update:
        row = session.get(Occurrence, change.id)
        if row is None or row.nudge_state != "pending":
            continue
        row.nudge_at, row.due_at = change.nudge_at, change.due_at
        row.status, row.status_at = change.status, now
        replanned(row)
        session.add(row)


PLANNING_LOCK = 4242001


def try_planning_lock(session: Session) -> bool:
    """On PostgreSQL, only one instance plans at a time (a transaction-scoped advisory lock);
    SQLite has a single writer anyway. Advisory locks are database-wide, so the key names the
    schema too: plants (or test runs) in other schemas of the same database never wait on it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key, hashtext(current_schema()))"),
        {"key": PLANNING_LOCK},
    )
    return bool(taken.scalar())


@dataclass(frozen=True, slots=True)
class NudgeRow:
    item: DueNudge
    duty_title: str
    duty_details: str
    person_name: str
    language: str
    timezone: str | None
    unit_id: int
    person_key: str = ""


def nudge_after_joining(session: Session, person_id: int, now: datetime) -> int:
    """A person who joins after their nudge time was due a nudge nobody could send
    ("no_chat"): duties still open and not yet due go back to the nudge pass, which sends them
    (late if their time is well past). Returns how many."""
    result = session.execute(
        update(Occurrence)
        .where(
            col(Occurrence.person_id) == person_id,
            col(Occurrence.nudge_state) == "no_chat",
            col(Occurrence.status) == "open",
            col(Occurrence.due_at) > now,
        )
        .values(nudge_state="pending")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def due_nudges(session: Session, now: datetime, limit: int) -> list[NudgeRow]:
    """Occurrences whose nudge instant has come and that were not handled yet."""
    query = (
        select(Occurrence, Duty.title, Duty.details, Person)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .join(Person, col(Person.id) == col(Occurrence.person_id))
        .where(col(Occurrence.nudge_state) == "pending", col(Occurrence.nudge_at) <= now)
        .order_by(col(Occurrence.nudge_at), col(Occurrence.id))
        .limit(limit)
    )
    rows = []
    for occ, title, details, person in session.execute(query).all():
        item = DueNudge(
            occurrence_id=occ.id,
            person_id=occ.person_id,
            chat_id=person.telegram_user_id,
            nudge_at=occ.nudge_at,
            due_at=occ.due_at,
            status=occ.status,
            number=occ.number,
        )
        rows.append(
            NudgeRow(
                item,
                title,
                details,
                person.name,
                person.language,
                person.timezone,
                person.unit_id,
                person.key,
            )
        )
    return rows


def set_nudge_states(session: Session, rows: Sequence[tuple[int, str, int | None]]) -> None:
    """(occurrence id, nudge state, outbox id) for many occurrences still pending, at once."""
    if not rows:
        return
    table = Occurrence.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("occurrence_id"), table.c.nudge_state == "pending")
        .values(nudge_state=bindparam("state"), nudge_outbox_id=bindparam("outbox_id")),
        [{"occurrence_id": o, "state": st, "outbox_id": ob} for o, st, ob in rows],
    )


def set_nudge_state(
    session: Session, occurrence_ids: Sequence[int], state: str, outbox_id: int | None = None
) -> None:
    for chunk in chunked(occurrence_ids):
        session.execute(
            update(Occurrence)
            .where(col(Occurrence.id).in_(chunk), col(Occurrence.nudge_state) == "pending")
            .values(nudge_state=state, nudge_outbox_id=outbox_id)
        )


@dataclass(frozen=True, slots=True)
class AgendaRow:
    occurrence_id: int
    number: int
    title: str
    day: date
    nudge_at: datetime
    due_at: datetime
    status: str


def occurrences_of(session: Session, person_id: int, days: Sequence[date]) -> list[AgendaRow]:
    """A person's stored occurrences on ``days`` (cancelled ones left out), in list order."""
    query = (
        sa_select(
            col(Occurrence.id),
            col(Occurrence.number),
            col(Duty.title),
            col(Occurrence.day),
            col(Occurrence.nudge_at),
            col(Occurrence.due_at),
            col(Occurrence.status),
        )
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(
            col(Occurrence.person_id) == person_id,
            col(Occurrence.day).in_(days),
            col(Occurrence.status) != "cancelled",
        )
        .order_by(col(Occurrence.day), col(Occurrence.number))
    )
    return [AgendaRow(*row) for row in session.execute(query).all()]


def duties_concerning(session: Session, person: Person) -> list[Duty]:
    """Active duties assigned to the person, or to their post in their unit."""
    query = select(Duty).where(
        col(Duty.active),
        (col(Duty.person_id) == person.id)
        | ((col(Duty.post) == person.post) & (col(Duty.unit_id) == person.unit_id)),
    )
    return list(session.exec(query).all())
