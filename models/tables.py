"""Every stored table, in one module so that Alembic and the store see one metadata.

Rows are plain records; deciding what they mean lives in the pure modules beside this one.
Times are instants in UTC (``UTCDateTime``); a ``day`` is a plant-local calendar date.
Constraint and index names follow ``NAMING_CONVENTION`` so migrations can drop them by name on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.occurrence import NudgeState, OccurrenceState, status_of
from models.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def _utc(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Unit(SQLModel, table=True):
    """A node of the org tree: the plant, a workshop, a team."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # plant | workshop | team | unit
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    timezone: str | None = Field(default=None, max_length=64)
    active: bool = True
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class Person(SQLModel, table=True):
    """Somebody in the plant; bound to a Telegram account once they redeem an invite."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    post: str = Field(max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=10)  # the effective one: a catalogue's tag
    # where ``language`` came from: org (the org file or HR CSV named it; each import that names
    # it sets it again) | telegram (Telegram's language_code at /start) | chosen (/language)
    # | default (the plant's ``[plant] language``); see ``models.org_sync``
    language_source: str = Field(
        default="default", max_length=10, sa_column_kwargs={"server_default": "default"}
    )
    crew: str | None = Field(default=None, max_length=32)  # rotating shift crew, if any
    quiet_hours: str | None = Field(default=None, max_length=11)  # "22:00-06:00"; "" = none
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    joined_at: datetime | None = _utc(nullable=True)
    unreachable_reason: str | None = Field(default=None, max_length=40)
    unreachable_since: datetime | None = _utc(nullable=True)
    active: bool = True
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class Leadership(SQLModel, table=True):
    """Who leads a unit, and who deputises. One leader and one deputy per unit at most.

    Kept apart from ``unit`` so that unit and person do not reference each other in a cycle.
    """

    __table_args__ = (UniqueConstraint("unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    role: str = Field(max_length=10)  # leader | deputy
    person_id: int = Field(foreign_key="person.id", index=True)


class Duty(SQLModel, table=True):
    """A recurring (or one-off) duty, assigned to one person or to a post within a unit."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    title: str = Field(max_length=200)
    details: str = Field(default="", max_length=2000)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    post: str | None = Field(default=None, max_length=100)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    schedule: Any = Field(default="workdays", sa_type=JSON)
    nudge_time: str | None = Field(default=None, max_length=5)  # "HH:MM", plant-local
    due: str = Field(default="", max_length=20)  # "HH:MM" | "+4h" | "end-of-shift"
    evidence: str = Field(default="none", max_length=10)  # none | photo | text
    policy: str | None = Field(default=None, max_length=64)
    urgent: bool = False
    active: bool = True
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class Occurrence(SQLModel, table=True):
    """One duty for one person on one day. The unique key makes re-planning harmless.

    ``status``: open | done | blocked | late | excused | absent | cancelled | reassigned (to
    ``reassigned_to``, whose own occurrence of the duty carries it on).
    ``nudge_state``: pending (not yet nudged) | queued (in the outbox) | late (queued after a
    downtime, marked late) | skipped (its time passed during a downtime; not sent stale).
    ``number``: the duty's number in the person's list for that day ("done 1 3").
    The statuses, and every change to them, are in ``models.occurrence``: ``life`` reads the
    row as its state, ``apply`` writes a new one back.
    """

    __table_args__ = (
        UniqueConstraint("duty_id", "person_id", "day"),
        Index("ix_occurrence_nudge_due", "nudge_state", "nudge_at"),
        # The board reads a subtree's day from its people: person, then day.
        Index("ix_occurrence_person_day", "person_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    duty_id: int = Field(foreign_key="duty.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    day: date = Field(index=True)
    number: int = 0
    nudge_at: datetime = _utc()
    due_at: datetime = _utc()
    status: str = Field(default="open", max_length=12)
    status_at: datetime = _utc()
    nudge_state: str = Field(default="pending", max_length=10)
    # indexed: an answer re-renders the nudge message it was listed in
    nudge_outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    created_at: datetime = _utc()
    # Escalation: the policy as it was when the occurrence opened, and where its climb stands.
    policy: Any = Field(default=None, sa_type=JSON, nullable=True)
    urgent: bool = False
    reminders_sent: int = 0
    levels_done: int = 0
    last_step_at: datetime | None = _utc(nullable=True)
    blocked_at: datetime | None = _utc(nullable=True)
    promised_at: datetime | None = _utc(nullable=True)
    acked_at: datetime | None = _utc(nullable=True)
    acked_by: int | None = Field(default=None, foreign_key="person.id")
    reassigned_to: int | None = Field(default=None, foreign_key="person.id")  # the new assignee
    escalation_ended: bool = False
    # When the next escalation step is due (None: nothing more will happen); indexed, so a
    # pass with nothing due reads nothing.
    next_step_at: datetime | None = _utc(nullable=True, index=True)

    def life(self) -> OccurrenceState:
        """The fields its life changes, as the pure transitions of ``models.occurrence`` take
        them. ValueError for a status or nudge state no release writes."""
        values = {f.name: getattr(self, f.name) for f in fields(OccurrenceState)}
        values["status"] = status_of(self.status)
        values["nudge_state"] = NudgeState(self.nudge_state)
        return OccurrenceState(**values)

    def apply(self, life: OccurrenceState) -> None:
        """Copy a state from ``models.occurrence`` onto the row (statuses as plain text): only
        the fields it changes (setting a field of a table model is not cheap)."""
        for f in fields(OccurrenceState):
            value = getattr(life, f.name)
            value = value.value if isinstance(value, StrEnum) else value
            if getattr(self, f.name) != value:
                setattr(self, f.name, value)


class Notice(SQLModel, table=True):
    """One escalation step for one recipient: a reminder to the person, or an item for a
    leader. Notices for one recipient that come due close together go out as one message
    (``outbox_id``), whose text the bot edits when somebody takes the item."""

    __table_args__ = (
        UniqueConstraint("occurrence_id", "recipient_id", "step"),
        Index("ix_notice_pending", "state", "deliver_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrence.id", index=True)
    recipient_id: int = Field(foreign_key="person.id")
    step: str = Field(max_length=24)  # "r0" reminder 0, "l2" level step 2, "b0" block...
    kind: str = Field(max_length=10)  # remind | escalate | block | resolved
    reason: str = Field(default="", max_length=20)
    urgent: bool = False
    deliver_at: datetime = _utc()  # after quiet hours
    state: str = Field(default="pending", max_length=10)  # models.status.NoticeState
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    created_at: datetime = _utc()


class Report(SQLModel, table=True):
    """Reports that must go out once: a vacancy once a day, an unreachable person once."""

    __table_args__ = (UniqueConstraint("kind", "subject", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # vacancy | unreachable
    subject: str = Field(max_length=80)
    period: str = Field(max_length=20)  # a date for daily reports, "once" otherwise
    created_at: datetime = _utc()


class Absence(SQLModel, table=True):
    """A person away (leave, sickness, trip) from ``start`` to ``end``, both days included."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    start: date
    end: date
    kind: str = Field(default="leave", max_length=10)
    note: str = Field(default="", max_length=200)
    source: str = Field(default="cli", max_length=10)  # org (the org file) | cli
    created_at: datetime = _utc()


class OrgSection(SQLModel, table=True):
    """Parts of the org file kept whole, as imported (the ``[shifts]`` table)."""

    __tablename__ = "org_section"

    name: str = Field(primary_key=True, max_length=32)
    data: Any = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _utc()


class Reply(SQLModel, table=True):
    """Every answer a person gave to an occurrence, kept even when a later one replaces it."""

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrence.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=12)  # done | blocked | later
    category: str | None = Field(default=None, max_length=20)
    text: str | None = Field(default=None, max_length=1000)
    new_due_at: datetime | None = _utc(nullable=True)
    evidence_file_id: str | None = Field(default=None, max_length=200)
    evidence_path: str | None = Field(default=None, max_length=500)
    via: str = Field(max_length=20)  # button | command | text
    source_message_id: int | None = Field(default=None, sa_type=BigInteger)
    # One update may answer several duties ("done 1 3"): unique per update and occurrence, so
    # an update delivered again (after a restart) is recorded once.
    telegram_update_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _utc()

    __table_args__ = (UniqueConstraint("telegram_update_id", "occurrence_id"),)


class PendingInput(SQLModel, table=True):
    """A question the bot asked a person and awaits an answer to (a photo as evidence, a note
    on a block, a time for "later"). One per person: a new question replaces the old one.
    Kept in the database so that a restart does not forget what the person was asked."""

    __tablename__ = "pending_input"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrence.id")
    kind: str = Field(max_length=12)  # evidence | block_note | later_time
    category: str | None = Field(default=None, max_length=20)
    prompt_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()


class AuditEvent(SQLModel, table=True):
    """The append-only record of everything that happened. Triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(index=True)
    kind: str = Field(max_length=40, index=True)
    actor_person_id: int | None = Field(default=None, foreign_key="person.id")
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    subject: str = Field(default="", max_length=80)
    data: Any = Field(default_factory=dict, sa_type=JSON)


class Outbox(SQLModel, table=True):
    """A message to send. Written before sending, marked sent with Telegram's message id after.

    ``state``: pending -> sending (claimed by a sender until ``claimed_at`` + lease, renewed
    while it holds the claim) -> sent, or back to pending with a later ``next_attempt_at``, or
    dead (given up; see last_error; reported to the admins), or skipped (stale).
    ``stale_at``: past this instant the message is no longer worth sending (a nudge whose duty
    is due).
    """

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _utc()
    chat_id: int = Field(sa_type=BigInteger)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    kind: str = Field(max_length=20)
    dedupe_key: str | None = Field(default=None, unique=True, max_length=120)
    payload: Any = Field(default_factory=dict, sa_type=JSON)
    state: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    claimed_at: datetime | None = _utc(nullable=True)
    stale_at: datetime | None = _utc(nullable=True)
    sent_at: datetime | None = _utc(nullable=True)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, max_length=500)


class Invite(SQLModel, table=True):
    """A single-use, expiring onboarding code for the ``/start <code>`` deep link."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)
    used_by_telegram_id: int | None = Field(default=None, sa_type=BigInteger)


class Setting(SQLModel, table=True):
    """Small facts the bot learns at run time (its username) and keeps across restarts."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)
    updated_at: datetime = _utc()


class InboxUpdate(SQLModel, table=True):
    """A Telegram update, stored before it is confirmed to Telegram (the polling offset moves
    past it, or the webhook answers 200), then handled once by a worker.

    ``state``: pending -> handling (claimed by ``claimed_by`` until ``claimed_at`` + lease)
    -> done; after a failure back to pending with a later ``next_attempt_at``, and after the
    last try dead (``last_error`` says why). ``chat_key`` is the chat (or, with no chat, the
    sender) whose updates are handled in order, one at a time.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_due", "state", "next_attempt_at"),
        Index("ix_inbox_chat", "chat_key", "update_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(sa_type=BigInteger, unique=True)
    chat_key: int = Field(sa_type=BigInteger)
    payload: Any = Field(default_factory=dict, sa_type=JSON)
    state: str = Field(default="pending", max_length=10)
    attempts: int = 0
    received_at: datetime = _utc()
    next_attempt_at: datetime = _utc()
    claimed_at: datetime | None = _utc(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    handled_at: datetime | None = _utc(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)


class Lease(SQLModel, table=True):
    """A named lease: while ``expires_at`` is ahead, only ``holder`` (one running instance)
    does the thing named (polls Telegram, sends the outbox, runs a pass). The holder renews
    it; another instance takes it over once it has expired."""

    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(max_length=100)
    acquired_at: datetime = _utc()
    expires_at: datetime = _utc()
