"""``execbot away``: absences recorded by hand (source "cli"), beside those from the org file.

Rules:
- The person must exist and be active. An absence runs from its first to its last day, both
  included (the last not before the first); its kind is leave, sick, trip or other; its note
  has at most 200 characters. Overlapping absences are allowed (the planner takes any).
- Only absences recorded here can be cancelled here; those from the org file change when the
  file changes and is imported again.
- Adding and cancelling each write one audit event: ``absence.added``, ``absence.cancelled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store import absences, audit, org
from bot.store.engine import session_scope
from models.calendar import Absence as AbsenceSpan
from models.calendar import AbsenceKind
from models.org_spec import ABSENCE_NOTE_MAX
from models.tables import Absence, Person


class AbsenceError(Exception):
    """A request that cannot be carried out, worded for the admin."""


@dataclass(frozen=True, slots=True)
class AbsenceRecord:
    id: int
    start: date
    end: date
    kind: str
    note: str
    source: str

    def describe(self) -> str:
        days = (self.end - self.start).days + 1
        span = f"{self.start} to {self.end} ({days} day{'s' if days > 1 else ''}, {self.kind})"
        return span + (f": {self.note}" if self.note else "")


def _record(row: Absence) -> AbsenceRecord:
    assert row.id is not None
    return AbsenceRecord(row.id, row.start, row.end, row.kind, row.note, row.source)


def _person(session: Session, key: str, *, active: bool) -> Person:
    person = org.person_by_key(session, key)
    if person is None:
        raise AbsenceError(f"{key}: no such person")
    if active and not person.active:
        raise AbsenceError(f"{key}: {person.name} is no longer active")
    assert person.id is not None
    return person


def add_absence(
    engine: Engine,
    person_key: str,
    start: date,
    end: date,
    kind: AbsenceKind,
    note: str,
    now: datetime,
) -> tuple[Person, AbsenceRecord]:
    try:
        AbsenceSpan(person_key, start, end, kind, note)
    except ValueError as error:
        raise AbsenceError(str(error)) from None
    if len(note) > ABSENCE_NOTE_MAX:
        raise AbsenceError(f"the note has {len(note)} characters; at most {ABSENCE_NOTE_MAX}")
    with session_scope(engine) as session:
        person = _person(session, person_key, active=True)
        assert person.id is not None
        row = absences.add_absence(
            session,
            Absence(
                person_id=person.id,
                start=start,
                end=end,
                kind=kind.value,
                note=note,
                source="cli",
                created_at=now,
            ),
        )
        record = _record(row)
        audit.record(session, "absence.added", now, subject=person_key, data=_audit_data(record))
    return person, record


def list_absences(engine: Engine, person_key: str) -> tuple[Person, list[AbsenceRecord]]:
    with session_scope(engine) as session:
        person = _person(session, person_key, active=False)
        assert person.id is not None
        return person, [_record(row) for row in absences.absences_of(session, person.id)]


def cancel_absence(
    engine: Engine, person_key: str, absence_id: int, now: datetime
) -> tuple[Person, AbsenceRecord]:
    with session_scope(engine) as session:
        person = _person(session, person_key, active=False)
        row = absences.absence_by_id(session, absence_id)
        if row is None or row.person_id != person.id:
            raise AbsenceError(f"{person_key} has no absence {absence_id} (see --list)")
        if row.source != "cli":
            raise AbsenceError(
                f"absence {absence_id} comes from the org file: remove it there and import again"
            )
        record = _record(row)
        absences.delete_absence(session, row)
        audit.record(
            session, "absence.cancelled", now, subject=person_key, data=_audit_data(record)
        )
    return person, record


def _audit_data(record: AbsenceRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "start": record.start.isoformat(),
        "end": record.end.isoformat(),
        "kind": record.kind,
        "note": record.note,
    }
