"""The one module that runs SQL. Services call these functions inside ``session_scope``.

Each function is a small query or write on an open session; none commits (the caller's scope
does), none talks to Telegram, none reads the clock (``now`` is passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, func, insert, literal, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models.nudging import DueNudge
from models.org_sync import Change, ChangePlan, CurrentOrg, absence_key
from models.planning import PlannedOccurrence
from models.replan import Reconciliation, StoredOccurrence
from models.tables import (
    Absence,
    AuditEvent,
    Duty,
    Invite,
    Leadership,
    Notice,
    Occurrence,
    OrgSection,
    Outbox,
    PendingInput,
    Person,
    Reply,
    Report,
    Setting,
    Unit,
)

CHUNK = 500  # ids per IN (...) list: well inside SQLite's limit on variables

# --- audit -------------------------------------------------------------------------------------


SUBJECT_LIMIT = 80  # AuditEvent.subject's column


def audit(
    session: Session,
    kind: str,
    now: datetime,
    *,
    subject: str = "",
    actor: Person | None = None,
    actor_telegram_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """One audit event. A subject longer than its column (a long file path) keeps its end,
    the most telling part, behind "…"; callers put the whole value in ``data``."""
    if len(subject) > SUBJECT_LIMIT:
        subject = "…" + subject[-(SUBJECT_LIMIT - 1) :]
    session.add(
        AuditEvent(
            at=now,
            kind=kind,
            subject=subject,
            actor_person_id=actor.id if actor else None,
            actor_telegram_id=actor_telegram_id,
            data=data or {},
        )
    )


def audit_events(session: Session, kind: str | None = None) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    return session.exec(query).all()


# --- org ---------------------------------------------------------------------------------------


def load_current_org(session: Session) -> CurrentOrg:
    units = session.exec(select(Unit)).all()
    people = session.exec(select(Person)).all()
    unit_key = {u.id: u.key for u in units}
    person_key = {p.id: p.key for p in people}
    shifts = session.get(OrgSection, "shifts")
    return CurrentOrg(
        units={
            u.key: {
                "name": u.name,
                "kind": u.kind,
                "parent": unit_key.get(u.parent_id) if u.parent_id else None,
                "timezone": u.timezone,
                "active": u.active,
            }
            for u in units
        },
        people={
            p.key: {
                "name": p.name,
                "unit": unit_key[p.unit_id],
                "post": p.post,
                "timezone": p.timezone,
                "language": p.language,
                "crew": p.crew,
                "quiet_hours": p.quiet_hours,
                "active": p.active,
            }
            for p in people
        },
        duties={
            d.key: {
                "title": d.title,
                "details": d.details,
                "assignee": person_key.get(d.person_id) if d.person_id else None,
                "post": d.post,
                "unit": unit_key.get(d.unit_id) if d.unit_id else None,
                "schedule": d.schedule,
                "nudge_time": d.nudge_time,
                "due": d.due,
                "evidence": d.evidence,
                "policy": d.policy,
                "urgent": d.urgent,
                "active": d.active,
            }
            for d in session.exec(select(Duty)).all()
        },
        leadership={
            (unit_key[row.unit_id], row.role): person_key[row.person_id]
            for row in session.exec(select(Leadership)).all()
        },
        shifts=dict(shifts.data) if shifts else None,
        absences={
            absence_key(key, row.start, row.end): {
                "person": key,
                "start": row.start,
                "end": row.end,
                "kind": row.kind,
                "note": row.note,
            }
            for key, row in org_absences(session)
        },
    )


def apply_org_plan(session: Session, plan: ChangePlan, now: datetime) -> None:
    """Write the plan: units (then their parents), people, leadership, duties, shifts,
    absences."""
    by_kind: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_kind.setdefault(change.kind, []).append(change)
    units = {u.key: u for u in session.exec(select(Unit)).all()}
    unit_changes = by_kind.get("unit", [])
    # A parent may be created by the same import: write the units, then link the parents.
    _apply_rows(session, Unit, units, unit_changes, now, refs={"parent": ("parent_id", None)})
    session.flush()
    unit_ids = {k: u.id for k, u in units.items()}
    for change in unit_changes:
        if "parent" in change.fields:
            parent = change.fields["parent"]
            units[change.key].parent_id = unit_ids[parent] if parent else None
    people = {p.key: p for p in session.exec(select(Person)).all()}
    person_changes = by_kind.get("person", [])
    _apply_rows(session, Person, people, person_changes, now, refs={"unit": ("unit_id", unit_ids)})
    session.flush()
    person_ids = {k: p.id for k, p in people.items()}
    for change in by_kind.get("leadership", []):
        unit_key, role = change.key.rsplit(".", 1)
        slot = select(Leadership).where(
            Leadership.unit_id == unit_ids[unit_key], Leadership.role == role
        )
        existing = session.exec(slot).first()
        who = change.fields["person"]
        if existing is not None:
            session.delete(existing)
            session.flush()
        unit_id, person_id = unit_ids[unit_key], person_ids.get(who) if who else None
        if unit_id is not None and person_id is not None:
            session.add(Leadership(unit_id=unit_id, role=role, person_id=person_id))
    duties = {d.key: d for d in session.exec(select(Duty)).all()}
    duty_refs: dict[str, tuple[str, Lookup | None]] = {
        "assignee": ("person_id", person_ids),
        "unit": ("unit_id", unit_ids),
    }
    _apply_rows(session, Duty, duties, by_kind.get("duty", []), now, refs=duty_refs)
    for change in by_kind.get("shifts", []):
        section = session.get(OrgSection, "shifts") or OrgSection(name="shifts")
        section.data, section.updated_at = change.fields["data"], now
        session.add(section)
    known = {key: person_id for key, person_id in person_ids.items() if person_id is not None}
    apply_org_absences(session, by_kind.get("absence", []), known, now)
    session.flush()


Lookup = dict[str, int | None]


def _apply_rows(
    session: Session,
    table: Any,
    existing: dict[str, Any],
    changes: list[Change],
    now: datetime,
    *,
    refs: Mapping[str, tuple[str, Lookup | None]],
) -> None:
    """Create or update rows from changes; ``refs`` maps a key-valued field to its id column
    and the key -> id lookup (None: left unset here, linked by the caller)."""
    for change in changes:
        values: dict[str, Any] = {}
        for name, value in change.fields.items():
            if name not in refs:
                values[name] = value
                continue
            column, lookup = refs[name]
            if lookup is not None:
                values[column] = lookup[value] if value else None
        row = existing.get(change.key)
        if row is None:
            row = table(key=change.key, created_at=now, updated_at=now, **values)
            existing[change.key] = row
        else:
            for column, value in values.items():
                setattr(row, column, value)
            row.updated_at = now
        session.add(row)


def unit_by_key(session: Session, key: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.key == key)).first()


def person_by_key(session: Session, key: str) -> Person | None:
    return session.exec(select(Person).where(Person.key == key)).first()


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def person_by_telegram(session: Session, telegram_user_id: int) -> Person | None:
    return session.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()


def pending_people(session: Session) -> Sequence[Person]:
    """Active people who have not linked a Telegram account yet."""
    query = select(Person).where(Person.active, col(Person.telegram_user_id).is_(None))
    return session.exec(query.order_by(col(Person.key))).all()


def units_led_by(session: Session, person_id: int) -> Sequence[Unit]:
    query = (
        select(Unit)
        .join(Leadership, col(Leadership.unit_id) == col(Unit.id))
        .where(Leadership.person_id == person_id, Unit.active)
    )
    return session.exec(query).all()


# --- invites -----------------------------------------------------------------------------------


def add_invite(session: Session, invite: Invite) -> Invite:
    session.add(invite)
    session.flush()
    return invite


def invite_by_code(session: Session, code: str) -> Invite | None:
    return session.exec(select(Invite).where(Invite.code == code)).first()


# --- settings ----------------------------------------------------------------------------------

BOT_USERNAME_SETTING = "bot_username"  # learned from getMe at start-up, used in invite links


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def put_setting(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value, updated_at=now)
    else:
        row.value, row.updated_at = value, now
    session.add(row)


# --- outbox ------------------------------------------------------------------------------------


def enqueue(session: Session, message: Outbox) -> Outbox | None:
    """Store a message to send, unless one with the same dedupe key exists (then None)."""
    if message.dedupe_key is not None:
        exists = select(Outbox.id).where(Outbox.dedupe_key == message.dedupe_key)
        if session.exec(exists).first() is not None:
            return None
    session.add(message)
    session.flush()
    return message


def enqueue_many(session: Session, messages: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store many messages in one statement, skipping dedupe keys stored before; returns
    dedupe key -> outbox id of those stored now."""
    if not messages:
        return {}
    table = Outbox.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        statement: Any = postgresql_insert(table)
    else:
        statement = sqlite_insert(table)
    statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(
        table.c.id, table.c.dedupe_key
    )
    rows = [
        row
        for start in range(0, len(messages), 500)  # SQLite caps the variables of one statement
        for row in session.execute(statement.values(list(messages[start : start + 500]))).all()
    ]
    return {key: int(outbox_id) for outbox_id, key in rows}


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    person_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    stale_at: datetime | None


def claim_outbox(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due messages for sending (``pending`` -> ``sending``).

    The conditional UPDATE claims each row once even with several senders; on PostgreSQL
    ``FOR UPDATE SKIP LOCKED`` lets concurrent instances take disjoint batches.
    """
    due = (
        select(Outbox.id)
        .where(Outbox.state == "pending", col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(Outbox)
        .where(col(Outbox.id).in_(due.scalar_subquery()), col(Outbox.state) == "pending")
        .values(state="sending", claimed_at=now)
        .returning(
            col(Outbox.id),
            col(Outbox.chat_id),
            col(Outbox.person_id),
            col(Outbox.kind),
            col(Outbox.payload),
            col(Outbox.attempts),
            col(Outbox.stale_at),
        )
    )
    rows = session.execute(claim).all()
    claimed = [Claimed(*row) for row in rows]
    return sorted(claimed, key=lambda c: c.id)


def release_claims(session: Session, claimed_before: datetime) -> int:
    """Return messages claimed before ``claimed_before`` and never finished to ``pending``
    (their sender died). Such a message may have reached Telegram: the only duplicates."""
    result = session.execute(
        update(Outbox)
        .where(col(Outbox.state) == "sending", col(Outbox.claimed_at) < claimed_before)
        .values(state="pending", claimed_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def renew_claims(session: Session, outbox_ids: Sequence[int], now: datetime) -> None:
    """The sender still holds these claims (sending, or waiting to record the outcome): move
    their claim time to ``now`` so that no other instance's lease takes them back."""
    for start in range(0, len(outbox_ids), 500):
        session.execute(
            update(Outbox)
            .where(
                col(Outbox.id).in_(outbox_ids[start : start + 500]),
                col(Outbox.state) == "sending",
            )
            .values(claimed_at=now)
        )


def record_sent(session: Session, sent: Sequence[tuple[int, int | None, datetime]]) -> None:
    """Mark messages sent: (outbox id, Telegram message id, sent at), in one statement."""
    if not sent:
        return
    table = Outbox.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("outbox_id"))
        .values(
            state="sent",
            sent_at=bindparam("at"),
            telegram_message_id=bindparam("message_id"),
            last_error=None,
        ),
        [{"outbox_id": i, "message_id": m, "at": at} for i, m, at in sent],
    )


def record_failure(
    session: Session, outbox_id: int, state: str, retry_at: datetime | None, error: str
) -> None:
    """A failed send: back to ``pending`` for ``retry_at``, or ``dead`` (given up), or
    ``skipped`` (stale; a nudge's occurrences then say "skipped", not nudged). Only a row still
    claimed changes, so recording the same failure twice counts it once."""
    values: dict[str, Any] = {
        "state": state,
        "attempts": col(Outbox.attempts) + 1,
        "last_error": error[:500],
        "claimed_at": None,
    }
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    changed = session.execute(
        update(Outbox)
        .where(col(Outbox.id) == outbox_id, col(Outbox.state) == "sending")
        .values(**values)
    )
    if state == "skipped" and changed.rowcount:  # type: ignore[attr-defined]
        session.execute(
            update(Occurrence)
            .where(
                col(Occurrence.nudge_outbox_id) == outbox_id,
                col(Occurrence.nudge_state).in_(["queued", "late"]),
            )
            .values(nudge_state="skipped")
        )


@dataclass(frozen=True, slots=True)
class DeadMessage:
    """A message given up (state ``dead``), with whom it was for."""

    id: int
    kind: str
    chat_id: int
    person_key: str | None
    person_name: str | None
    created_at: datetime
    attempts: int
    last_error: str | None


DEAD_REPORT_KIND = "dead"  # ``report.kind`` of a dead message told to the admins
DEAD_SUBJECT = "outbox:"  # + the outbox id: ``report.subject`` of that report


def dead_messages(
    session: Session, *, unreported: bool = False, limit: int | None = None
) -> list[DeadMessage]:
    """Messages given up, newest first; ``unreported``: only those not yet told to admins."""
    query = (
        sa_select(
            col(Outbox.id),
            col(Outbox.kind),
            col(Outbox.chat_id),
            col(Person.key),
            col(Person.name),
            col(Outbox.created_at),
            col(Outbox.attempts),
            col(Outbox.last_error),
        )
        .outerjoin(Person, col(Person.id) == col(Outbox.person_id))
        .where(col(Outbox.state) == "dead")
        .order_by(col(Outbox.id).desc())
        .limit(limit)
    )
    if unreported:
        subject = literal(DEAD_SUBJECT) + cast(col(Outbox.id), String)
        told = sa_select(col(Report.id)).where(
            col(Report.kind) == DEAD_REPORT_KIND, col(Report.subject) == subject
        )
        query = query.where(~told.exists())
    return [DeadMessage(*row) for row in session.execute(query).all()]


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Outbox.state, func.count()).group_by(col(Outbox.state))).all()
    return {state: int(count) for state, count in rows}


def mark_unreachable(session: Session, person_id: int, reason: str, now: datetime) -> bool:
    """Record that a person cannot be messaged; True if this is news (not already known)."""
    result = session.execute(
        update(Person)
        .where(col(Person.id) == person_id, col(Person.unreachable_reason).is_(None))
        .values(unreachable_reason=reason, unreachable_since=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_reachable(session: Session, person_ids: Sequence[int]) -> None:
    if person_ids:
        session.execute(
            update(Person)
            .where(col(Person.id).in_(person_ids), col(Person.unreachable_reason).is_not(None))
            .values(unreachable_reason=None, unreachable_since=None)
        )


# --- occurrences -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanningFacts:
    """Plain rows (not ORM objects: planning reads tens of thousands), with the attributes of
    ``Person`` and ``Duty``."""

    units: list[tuple[int, int | None, str | None]]  # id, parent id, timezone
    people: Sequence[Any]
    duties: Sequence[Any]
    shifts: dict[str, Any]


def unit_timezones(session: Session) -> list[tuple[int, int | None, str | None]]:
    """Every unit as (id, parent id, timezone), for resolving people's timezones."""
    query = sa_select(col(Unit.id), col(Unit.parent_id), col(Unit.timezone))
    return [(int(uid), parent, tz) for uid, parent, tz in session.execute(query).all()]


def planning_facts(session: Session) -> PlanningFacts:
    units = unit_timezones(session)
    person, duty = Person.__table__, Duty.__table__  # type: ignore[attr-defined]
    people = session.execute(sa_select(person).where(person.c.active)).all()
    duties = session.execute(sa_select(duty).where(duty.c.active)).all()
    section = session.get(OrgSection, "shifts")
    return PlanningFacts(units, people, duties, dict(section.data) if section else {})


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
    if occurrence_ids:
        session.execute(
            update(Occurrence)
            .where(col(Occurrence.id).in_(occurrence_ids), col(Occurrence.nudge_state) == "pending")
            .values(nudge_state=state, nudge_outbox_id=outbox_id)
        )


def person_keys(session: Session, person_ids: Sequence[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    query = sa_select(col(Person.id), col(Person.key)).where(col(Person.id).in_(person_ids))
    return {int(pid): key for pid, key in session.execute(query).all()}


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


# --- absences ----------------------------------------------------------------------------------


def org_absences(session: Session) -> list[tuple[str, Absence]]:
    """Absences that came from the org file, with their person's key."""
    query = (
        select(Person.key, Absence)
        .join(Person, col(Person.id) == col(Absence.person_id))
        .where(Absence.source == "org")
    )
    return [(key, row) for key, row in session.exec(query).all()]


def apply_org_absences(
    session: Session, changes: Sequence[Change], person_ids: Mapping[str, int], now: datetime
) -> None:
    """Write the org file's absence changes (keys as ``models.org_sync.absence_key``)."""
    stored = {absence_key(key, row.start, row.end): row for key, row in org_absences(session)}
    for change in changes:
        if change.action == "create":
            values = change.fields
            session.add(
                Absence(
                    person_id=person_ids[values["person"]],
                    start=values["start"],
                    end=values["end"],
                    kind=values["kind"],
                    note=values["note"],
                    source="org",
                    created_at=now,
                )
            )
        elif change.action == "update":
            row = stored[change.key]
            for name, value in change.fields.items():
                setattr(row, name, value)
            session.add(row)
        else:
            session.delete(stored[change.key])


def absences_between(session: Session, first_day: date, last_day: date) -> list[Absence]:
    """Every absence that covers at least one day from ``first_day`` to ``last_day``."""
    query = (
        select(Absence)
        .where(col(Absence.start) <= last_day, col(Absence.end) >= first_day)
        .order_by(col(Absence.person_id), col(Absence.start), col(Absence.id))
    )
    return list(session.exec(query).all())


def absences_of(session: Session, person_id: int) -> list[Absence]:
    query = (
        select(Absence)
        .where(Absence.person_id == person_id)
        .order_by(col(Absence.start), col(Absence.id))
    )
    return list(session.exec(query).all())


def absence_by_id(session: Session, absence_id: int) -> Absence | None:
    return session.get(Absence, absence_id)


def add_absence(session: Session, absence: Absence) -> Absence:
    session.add(absence)
    session.flush()
    return absence


def delete_absence(session: Session, absence: Absence) -> None:
    session.delete(absence)
    session.flush()


# --- replies -----------------------------------------------------------------------------------


def reply_by_update(session: Session, update_id: int) -> Reply | None:
    return session.exec(select(Reply).where(Reply.telegram_update_id == update_id)).first()


def replies_by_update(session: Session, update_id: int) -> list[Reply]:
    """Every reply one update recorded ("done 1 3" records two), in the order stored."""
    query = select(Reply).where(Reply.telegram_update_id == update_id).order_by(col(Reply.id))
    return list(session.exec(query).all())


def occurrence_with_duty(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    row = session.exec(
        select(Occurrence, Duty)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(col(Occurrence.id) == occurrence_id)
    ).first()
    return (row[0], row[1]) if row else None


def last_reply(session: Session, occurrence_id: int) -> Reply | None:
    query = (
        select(Reply)
        .where(Reply.occurrence_id == occurrence_id)
        .order_by(col(Reply.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def replies_of(session: Session, occurrence_id: int) -> Sequence[Reply]:
    query = select(Reply).where(Reply.occurrence_id == occurrence_id).order_by(col(Reply.id))
    return session.exec(query).all()


def occurrence_by_number(session: Session, person_id: int, day: date, number: int) -> int | None:
    query = sa_select(col(Occurrence.id)).where(
        col(Occurrence.person_id) == person_id,
        col(Occurrence.day) == day,
        col(Occurrence.number) == number,
        col(Occurrence.status) != "cancelled",
    )
    found = session.execute(query).scalar()
    return int(found) if found is not None else None


def lock_occurrence(session: Session, occurrence_id: int) -> None:
    """Serialise answers to one occurrence (PostgreSQL row lock; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa_select(col(Occurrence.id))
            .where(col(Occurrence.id) == occurrence_id)
            .with_for_update()
        )


def nudge_outbox(session: Session, outbox_id: int) -> Outbox | None:
    return session.get(Outbox, outbox_id)


def occurrences_in_message(session: Session, outbox_id: int) -> list[tuple[Occurrence, Duty]]:
    query = (
        select(Occurrence, Duty)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .where(col(Occurrence.nudge_outbox_id) == outbox_id)
        .order_by(col(Occurrence.number))
    )
    return [(occ, duty) for occ, duty in session.exec(query).all()]


def leader_of(session: Session, person: Person) -> Person | None:
    """The nearest leader above the person (their unit's, else further up), not themselves."""
    unit_id: int | None = person.unit_id
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        lead = session.exec(
            select(Person)
            .join(Leadership, col(Leadership.person_id) == col(Person.id))
            .where(Leadership.unit_id == unit_id, Leadership.role == "leader")
        ).first()
        if lead is not None and lead.id != person.id and lead.active:
            return lead
        unit = session.get(Unit, unit_id)
        unit_id = unit.parent_id if unit else None
    return None


def pending_input(session: Session, person_id: int, now: datetime) -> PendingInput | None:
    row = session.get(PendingInput, person_id)
    if row is not None and row.expires_at <= now:
        session.delete(row)
        return None
    return row


def ask(session: Session, question: PendingInput) -> None:
    """Record the question put to a person, replacing any earlier one."""
    old = session.get(PendingInput, question.person_id)
    if old is not None:
        session.delete(old)
        session.flush()
    session.add(question)


def forget_question(session: Session, person_id: int) -> None:
    old = session.get(PendingInput, person_id)
    if old is not None:
        session.delete(old)


# --- escalation --------------------------------------------------------------------------------


def due_escalations(session: Session, now: datetime, limit: int) -> list[Occurrence]:
    """Occurrences whose next escalation step is due (the index makes "nothing due" cheap)."""
    query = (
        select(Occurrence)
        .where(col(Occurrence.next_step_at).is_not(None), col(Occurrence.next_step_at) <= now)
        .order_by(col(Occurrence.next_step_at), col(Occurrence.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


@dataclass(frozen=True, slots=True)
class TreeFacts:
    units: list[tuple[int, str, int | None, int | None, int | None]]  # id, key, parent, lead, dep
    people: list[tuple[int, str, int, str, bool]]  # id, key, unit, post, active


def tree_facts(session: Session) -> TreeFacts:
    roles: dict[tuple[int, str], int] = {
        (row.unit_id, row.role): row.person_id for row in session.exec(select(Leadership)).all()
    }
    units = [
        (
            u.id or 0,
            u.key,
            u.parent_id,
            roles.get((u.id or 0, "leader")),
            roles.get((u.id or 0, "deputy")),
        )
        for u in session.exec(select(Unit)).all()
    ]
    query = sa_select(
        col(Person.id), col(Person.key), col(Person.unit_id), col(Person.post), col(Person.active)
    )
    people = [(int(a), b, int(c), d, bool(e)) for a, b, c, d, e in session.execute(query).all()]
    return TreeFacts(units, people)


def absent_on(session: Session, day: date) -> frozenset[int]:
    return frozenset(row.person_id for row in absences_between(session, day, day))


def pending_notices(session: Session) -> list[Notice]:
    query = select(Notice).where(Notice.state == "pending").order_by(col(Notice.id))
    return list(session.exec(query).all())


def notices_in(session: Session, outbox_id: int) -> list[Notice]:
    query = select(Notice).where(Notice.outbox_id == outbox_id).order_by(col(Notice.id))
    return list(session.exec(query).all())


def notices_of(session: Session, occurrence_id: int) -> list[Notice]:
    query = select(Notice).where(Notice.occurrence_id == occurrence_id).order_by(col(Notice.id))
    return list(session.exec(query).all())


def last_told(
    session: Session, occurrence_ids: Sequence[int], since: datetime
) -> dict[tuple[int, int], datetime]:
    """(recipient, occurrence) -> when the latest message listing it was queued, for messages
    queued since ``since``."""
    told: dict[tuple[int, int], datetime] = {}
    for start in range(0, len(occurrence_ids), CHUNK):
        chunk = occurrence_ids[start : start + CHUNK]
        query = (
            sa_select(
                col(Notice.recipient_id), col(Notice.occurrence_id), func.max(Outbox.created_at)
            )
            .join(Outbox, col(Outbox.id) == col(Notice.outbox_id))
            .where(col(Notice.occurrence_id).in_(chunk), col(Outbox.created_at) >= since)
            .group_by(col(Notice.recipient_id), col(Notice.occurrence_id))
        )
        for recipient, occurrence, at in session.execute(query).all():
            told[(int(recipient), int(occurrence))] = at
    return told


def first_report(session: Session, kind: str, subject: str, period: str, now: datetime) -> bool:
    """True the first time (kind, subject, period) is reported; False ever after."""
    exists = select(Report.id).where(
        Report.kind == kind, Report.subject == subject, Report.period == period
    )
    if session.exec(exists).first() is not None:
        return False
    session.add(Report(kind=kind, subject=subject, period=period, created_at=now))
    session.flush()
    return True


def people_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = session.exec(select(Person).where(col(Person.id).in_(ids))).all()
    return {p.id or 0: p for p in rows}


def people_by_keys(session: Session, keys: Sequence[str]) -> list[Person]:
    if not keys:
        return []
    return list(session.exec(select(Person).where(col(Person.key).in_(keys))).all())


def unreachable_people(session: Session) -> list[Person]:
    """Active people who cannot be messaged: never joined (with duties due) or marked."""
    never_joined = (
        select(Person)
        .join(Occurrence, col(Occurrence.person_id) == col(Person.id))
        .where(col(Person.active), col(Occurrence.nudge_state) == "no_chat")
        .distinct()
    )
    marked = select(Person).where(col(Person.active), col(Person.unreachable_reason).is_not(None))
    found = {p.id: p for p in session.exec(never_joined).all()}
    found |= {p.id: p for p in session.exec(marked).all()}
    return list(found.values())


def board_rows(session: Session, day: date) -> list[tuple[Occurrence, Duty, Person]]:
    query = (
        select(Occurrence, Duty, Person)
        .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
        .join(Person, col(Person.id) == col(Occurrence.person_id))
        .where(col(Occurrence.day) == day, col(Occurrence.status) != "cancelled")
    )
    return [(o, d, p) for o, d, p in session.exec(query).all()]


def all_units(session: Session) -> Sequence[Unit]:
    return session.exec(select(Unit)).all()


def notice_keys(session: Session, occurrence_ids: Sequence[int]) -> set[tuple[int, int, str]]:
    """(occurrence, recipient, step) of every notice stored for these occurrences."""
    keys: set[tuple[int, int, str]] = set()
    for start in range(0, len(occurrence_ids), CHUNK):
        chunk = occurrence_ids[start : start + CHUNK]
        query = sa_select(
            col(Notice.occurrence_id), col(Notice.recipient_id), col(Notice.step)
        ).where(col(Notice.occurrence_id).in_(chunk))
        keys.update((int(o), int(r), str(s)) for o, r, s in session.execute(query).all())
    return keys


def stored_dedupe_keys(session: Session, keys: Sequence[str | None]) -> set[str | None]:
    found: set[str | None] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            session.exec(select(Outbox.dedupe_key).where(col(Outbox.dedupe_key).in_(chunk))).all()
        )
    return found


def occurrences_by_ids(session: Session, ids: Sequence[int]) -> list[Occurrence]:
    rows: list[Occurrence] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows.extend(session.exec(select(Occurrence).where(col(Occurrence.id).in_(chunk))).all())
    return rows


def duties_by_ids(session: Session, ids: Sequence[int]) -> list[Duty]:
    return list(session.exec(select(Duty).where(col(Duty.id).in_(ids))).all()) if ids else []


def active_people_in(session: Session, unit_ids: Sequence[int], *, but: int) -> list[Person]:
    """Active people of these units, by name (then key), leaving out one person (for
    reassigning)."""
    people: list[Person] = []
    for start in range(0, len(unit_ids), CHUNK):
        chunk = unit_ids[start : start + CHUNK]
        query = select(Person).where(
            col(Person.active), col(Person.unit_id).in_(chunk), col(Person.id) != but
        )
        people.extend(session.exec(query).all())
    return sorted(people, key=lambda p: (p.name, p.key))


def occurrence_of(session: Session, duty_id: int, person_id: int, day: date) -> Occurrence | None:
    query = select(Occurrence).where(
        Occurrence.duty_id == duty_id, Occurrence.person_id == person_id, Occurrence.day == day
    )
    return session.exec(query).first()


def highest_number(session: Session, person_id: int, day: date) -> int:
    query = select(func.max(Occurrence.number)).where(
        Occurrence.person_id == person_id, Occurrence.day == day
    )
    return int(session.exec(query).one() or 0)
