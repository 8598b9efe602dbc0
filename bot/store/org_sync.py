"""The org file against the database: the stored org as ``models.org_sync`` compares it, and
writing a change plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.org_sync import Change, ChangePlan, CurrentOrg, absence_key
from models.tables import Absence, Duty, Leadership, OrgSection, Person, Unit


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
                "language_source": p.language_source,
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
