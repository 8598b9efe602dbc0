"""Occurrences (one duty, one person, one day) and their duties: look-ups, locks, saving."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from bot.store.chunks import select_in
from bot.store.replies import LastAnswer
from models.occurrence import OccurrenceState
from models.tables import Duty, Occurrence, Outbox, Reply

_OCCURRENCE = Occurrence.__table__  # type: ignore[attr-defined]

# Statements run on every answer are built once, here: building one costs more than running it.
_WITH_DUTY = (
    select(Occurrence, Duty)
    .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
    .where(col(Occurrence.id) == bindparam("occurrence_id"))
)
_LOCK = (
    sa_select(col(Occurrence.id))
    .where(col(Occurrence.id) == bindparam("occurrence_id"))
    .with_for_update()
)
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_REPLY = Reply.__table__  # type: ignore[attr-defined]
_DUTY = Duty.__table__  # type: ignore[attr-defined]
_SENT_NUDGE = (  # plain tables: rows come back as tuples, without the ORM's work
    sa_select(
        _OUTBOX.c.chat_id, _OUTBOX.c.telegram_message_id, _OUTBOX.c.payload,
        _OCCURRENCE.c.id, _OCCURRENCE.c.number, _DUTY.c.title, _DUTY.c.details,
        _OCCURRENCE.c.due_at, _OCCURRENCE.c.status, _OCCURRENCE.c.nudge_at,
    )
    .select_from(
        _OUTBOX.join(_OCCURRENCE, _OCCURRENCE.c.nudge_outbox_id == _OUTBOX.c.id).join(
            _DUTY, _DUTY.c.id == _OCCURRENCE.c.duty_id
        )
    )
    .where(_OUTBOX.c.id == bindparam("outbox_id"), _OUTBOX.c.telegram_message_id.is_not(None))
    .order_by(_OCCURRENCE.c.number)
)  # fmt: skip


_LATEST_REPLY = (
    sa_select(func.max(_REPLY.c.id))
    .where(_REPLY.c.occurrence_id == _OCCURRENCE.c.id)
    .correlate(_OCCURRENCE)
    .scalar_subquery()
)
_ANSWERED = (
    sa_select(Occurrence, Duty, _REPLY.c.kind, _REPLY.c.category, _REPLY.c.new_due_at)
    .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
    .outerjoin(_REPLY, _REPLY.c.id == _LATEST_REPLY)
    .where(col(Occurrence.id) == bindparam("occurrence_id"))
)


def answered(
    session: Session, occurrence_id: int
) -> tuple[Occurrence, Duty, LastAnswer | None] | None:
    """The occurrence, its duty and what its latest reply said (None: no reply yet), in one
    query: what an answer to it is checked against."""
    row = session.execute(_ANSWERED, {"occurrence_id": occurrence_id}).first()
    if row is None:
        return None
    occ, duty, kind, category, new_due_at = row
    return occ, duty, (LastAnswer(kind, category, new_due_at) if kind is not None else None)


def occurrence_with_duty(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    row = session.exec(_WITH_DUTY, params={"occurrence_id": occurrence_id}).first()
    return (row[0], row[1]) if row else None


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
        session.execute(_LOCK, {"occurrence_id": occurrence_id})


@dataclass(frozen=True, slots=True)
class MessageLine:
    """An occurrence listed in a nudge message, as its re-rendering needs it."""

    id: int
    number: int
    title: str
    details: str
    due_at: datetime
    status: str
    nudge_at: datetime


@dataclass(frozen=True, slots=True)
class SentNudge:
    """A sent nudge message as an edit of it needs it: where it is, what it said, and the
    occurrences it lists (by number)."""

    chat_id: int
    telegram_message_id: int
    payload: dict[str, Any]
    lines: list[MessageLine]


def sent_nudge(session: Session, outbox_id: int) -> SentNudge | None:
    """The nudge message (one query, plain rows); None when it was never sent (no Telegram
    message id), is gone, or lists nothing."""
    rows = session.execute(_SENT_NUDGE, {"outbox_id": outbox_id}).all()
    if not rows:
        return None
    chat_id, message_id, payload = rows[0][:3]
    lines = [MessageLine(*row[3:]) for row in rows]
    return SentNudge(int(chat_id), int(message_id), dict(payload), lines)


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


def occurrences_by_ids(session: Session, ids: Sequence[int]) -> list[Occurrence]:
    return select_in(
        session, ids, lambda chunk: select(Occurrence).where(col(Occurrence.id).in_(chunk))
    )


def duties_by_ids(session: Session, ids: Sequence[int]) -> list[Duty]:
    return select_in(session, ids, lambda chunk: select(Duty).where(col(Duty.id).in_(chunk)))


def loaded_with_duty(session: Session, occurrence_id: int) -> tuple[Occurrence, Duty] | None:
    """The occurrence and its duty by primary key: read from the session when loaded already
    (``occurrences_by_ids`` and ``duties_by_ids`` prefetch), else one query each."""
    occ = session.get(Occurrence, occurrence_id)
    duty = session.get(Duty, occ.duty_id) if occ is not None else None
    return (occ, duty) if occ is not None and duty is not None else None


def duty_by_id(session: Session, duty_id: int) -> Duty | None:
    return session.get(Duty, duty_id)


_LIFE = tuple(f.name for f in fields(OccurrenceState))
_WRITE_STATE = (  # built once: every answer runs it
    update(_OCCURRENCE)
    .where(_OCCURRENCE.c.id == bindparam("occurrence_id"))
    .values({name: bindparam(f"new_{name}", type_=_OCCURRENCE.c[name].type) for name in _LIFE})
)


def write_state(session: Session, occurrence: Occurrence, state: OccurrenceState) -> None:
    """Store a stored occurrence's new state at once, with a plain UPDATE of its state's
    columns, and set them on the row object as stored (nothing left for the session to
    flush): an answer changes one row, and the unit of work costs more than the row."""
    values = {}
    for name in _LIFE:
        value = getattr(state, name)
        values[name] = value.value if isinstance(value, StrEnum) else value
    session.execute(
        _WRITE_STATE,
        {"occurrence_id": occurrence.id} | {f"new_{name}": v for name, v in values.items()},
    )
    for name, value in values.items():
        set_committed_value(occurrence, name, value)


def save(session: Session, occurrence: Occurrence) -> None:
    """Store the changes made to an occurrence (its state, its climb, a reassignment)."""
    session.add(occurrence)
