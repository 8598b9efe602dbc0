"""Planning and the agenda: the facts the planner reads, the plan written, the nudges due,
and a person's list."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, bindparam, cast, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store import bulk
from bot.store.chunks import chunked
from models.nudging import DueNudge
from models.planning import PlannedOccurrence
from models.replan import Reconciliation, StoredOccurrence
from models.tables import Duty, Occurrence, OrgSection, Person


class PersonFacts(NamedTuple):
    """What planning reads of an active person."""

    id: int
    key: str
    unit_id: int
    post: str
    timezone: str | None
    crew: str | None


class DutyFacts(NamedTuple):
    """What planning reads of an active duty (the attributes of ``Duty`` it uses)."""

    id: int
    key: str
    person_id: int | None
    post: str | None
    unit_id: int | None
    schedule: Any  # the stored JSON; equal ones are one shared object: do not change it
    nudge_time: str | None
    due: str
    policy: str | None
    urgent: bool


@dataclass(frozen=True, slots=True)
class PlanningFacts:
    """Plain rows, not ORM objects: planning reads tens of thousands."""

    people: Sequence[PersonFacts]
    duties: Sequence[DutyFacts]
    shifts: dict[str, Any]


def planning_facts(session: Session) -> PlanningFacts:
    people = bulk.select_rows(
        session,
        sa_select(*(col(getattr(Person, name)) for name in PersonFacts._fields))
        .where(col(Person.active))
        .order_by(col(Person.id)),
    )
    columns: list[Any] = [col(getattr(Duty, name)) for name in DutyFacts._fields]
    schedule = DutyFacts._fields.index("schedule")
    columns[schedule] = cast(col(Duty.schedule), Text)  # parsed below, once per distinct text
    duties = bulk.select_rows(
        session, sa_select(*columns).where(col(Duty.active)).order_by(col(Duty.id))
    )
    texts = {row[schedule] for row in duties}
    parsed = {text: None if text is None else json.loads(text) for text in texts}
    section = session.get(OrgSection, "shifts")
    return PlanningFacts(
        [PersonFacts._make(row) for row in people],
        [
            DutyFacts._make((*row[:schedule], parsed[row[schedule]], *row[schedule + 1 :]))
            for row in duties
        ],
        dict(section.data) if section else {},
    )


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
    rows = bulk.select_rows(session, query)
    return list(map(StoredOccurrence._make, rows))


WRITE_CHUNK = 2000  # rows per statement; on SQLite also per transaction


@dataclass(frozen=True, slots=True)
class Replan:
    """A stored occurrence being re-planned, as its climb is re-scheduled from: its policy
    snapshot, and its new due instant and status."""

    id: int
    policy: Any
    due_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class NextStep:
    """When a re-planned occurrence's climb next needs the escalation pass (None: never)."""

    at: datetime | None


class Extras(NamedTuple):
    """What a new occurrence gets beside its plan: its escalation snapshot."""

    policy: Any
    urgent: bool
    next_step_at: datetime | None


def write_plan(
    session: Session,
    plan: Reconciliation,
    now: datetime,
    extras: Callable[[PlannedOccurrence, str], Extras],
    replanned: Callable[[Replan], NextStep | None],
) -> None:
    """Insert the new occurrences (``extras`` adds the escalation snapshot of each) and apply
    the re-plans (``replanned`` gives each changed row's next escalation step, or None to
    leave its climb as it is), a chunk at a time.

    On SQLite, which has one writer at a time, each chunk is committed on its own: a tap's
    write waits for one chunk (milliseconds), never for the whole plan. A pass stopped halfway
    leaves whole chunks, and the next pass plans the rest: rows are inserted in the order
    their numbers were given, the unique key refuses a row twice, and a re-plan applies to a
    row only while it is still pending. On PostgreSQL writers do not wait for each other:
    the plan is one transaction, under the planning lock."""
    table = Occurrence.__table__  # type: ignore[attr-defined]
    commit = session.get_bind().dialect.name == "sqlite"
    same = {"status_at": now, "nudge_state": "pending", "created_at": now}
    for chunk in chunked(plan.create, WRITE_CHUNK):
        planned = [new.planned for new in chunk]
        statuses = [new.status for new in chunk]
        duty_ids, person_ids, days, nudges, dues, _ = zip(*planned, strict=True)
        policies, urgent, steps = zip(*map(extras, planned, statuses), strict=True)
        columns = {
            "duty_id": duty_ids,
            "person_id": person_ids,
            "day": days,
            "number": [new.number for new in chunk],
            "nudge_at": nudges,
            "due_at": dues,
            "status": statuses,
            "policy": policies,
            "urgent": urgent,
            "next_step_at": steps,
        }
        bulk.insert_columns(session, table, columns, same)
        if commit:
            session.commit()
    changes = {change.id: change for change in plan.update}
    for ids in chunked(list(changes), WRITE_CHUNK):
        pending = sa_select(table.c.id, table.c.policy).where(
            table.c.id.in_(ids), table.c.nudge_state == "pending"
        )
        stepped, kept = [], []
        for occurrence_id, policy in session.connection().execute(pending).all():
            change = changes[occurrence_id]
            step = replanned(Replan(occurrence_id, policy, change.due_at, change.status))
            values = {
                "occurrence_id": occurrence_id,
                "nudge_at": change.nudge_at,
                "due_at": change.due_at,
                "status": change.status,
                "status_at": now,
            }
            if step is None:
                kept.append(values)
            else:
                stepped.append(values | {"next_step_at": step.at})
        _replan(session, kept, [])
        _replan(session, stepped, ["next_step_at"])
        if commit:
            session.commit()


def _replan(session: Session, params: list[dict[str, Any]], extra: list[str]) -> None:
    """Apply re-plans to rows still pending (a nudge sent meanwhile makes them history)."""
    if not params:
        return
    table = Occurrence.__table__  # type: ignore[attr-defined]
    names = ["nudge_at", "due_at", "status", "status_at", *extra]
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("occurrence_id"), table.c.nudge_state == "pending")
        .values({name: bindparam(name) for name in names}),
        params,
    )


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
    promised_at: datetime | None = None  # a "later"'s new time


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
            col(Occurrence.promised_at),
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
