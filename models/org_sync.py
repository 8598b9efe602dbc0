"""Deciding an org import: check the references of a spec, then compute what changes.

Pure: the current org comes in as plain snapshots keyed by stable keys, the spec as parsed
from the files; out comes either a list of problems or a ``ChangePlan`` of creations, changes
and deactivations. Rules:
- Units, people and duties are never deleted: a record missing from a section that the files
  do have is deactivated, keeping its history.
- ``[shifts]`` is one record, created or replaced whole (compared in canonical form).
- ``[[absences]]`` is the whole truth for the absences that came from the org file (source
  "org"): those no longer in it are deleted (absences are plans, not history; the audit log
  keeps the import). Absences recorded with ``execbot away`` are not part of the org.
- References: a person's crew must be a crew of the shifts in force after the import (the
  files' ``[shifts]``, else the stored one), and a ``{ shift = ... }`` schedule a shift kind
  of them; when the files bring new shifts, the stored people and duties they leave alone are
  checked against them too.
- Languages: a person's language is the one the files name (source "org": it wins over the
  person's own choice at each import that names it); when the files name none, a language
  that came from Telegram's ``language_code`` at /start or from /language is kept, and any
  other becomes the plant's default (source "default").
- Bounds: the unit tree is at most ``MAX_DEPTH`` levels deep (the plant is level 1), and a
  duty's ``policy`` must name a policy of the config (when the caller gives the names).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from models.org_spec import AbsenceSpec, DutySpec, OrgProblem, OrgSpec, PersonSpec, UnitSpec
from models.schedule import OnShift, parse_schedule
from models.shifts import ANY, ShiftConfig, parse_shifts

MAX_DEPTH = 50  # levels of the unit tree, the plant included

Kind = Literal["unit", "person", "duty", "leadership", "shifts", "absence"]
Snapshot = dict[str, Any]  # field name -> value, references written as keys


@dataclass(frozen=True, slots=True)
class CurrentOrg:
    """What is stored now: per kind, key -> snapshot (with an ``active`` field)."""

    units: Mapping[str, Snapshot] = field(default_factory=dict)
    people: Mapping[str, Snapshot] = field(default_factory=dict)
    duties: Mapping[str, Snapshot] = field(default_factory=dict)
    # (unit key, role) -> person key
    leadership: Mapping[tuple[str, str], str] = field(default_factory=dict)
    shifts: Mapping[str, Any] | None = None  # the stored [shifts], canonical
    absences: Mapping[str, Snapshot] = field(default_factory=dict)  # source "org" only, by key


@dataclass(frozen=True, slots=True)
class Change:
    kind: Kind
    key: str
    action: Literal["create", "update", "deactivate", "delete"]
    fields: Mapping[str, Any]  # new values (create / update)
    before: Mapping[str, Any] = field(default_factory=dict)  # old values of changed fields

    def describe(self) -> str:
        if self.kind == "shifts":
            data = self.fields["data"]
            outline = "; ".join(
                f"{part} {', '.join(data.get(part, {})) or 'none'}"
                for part in ("kinds", "patterns", "crews")
            )
            return f"{'+' if self.action == 'create' else '~'} shifts: {outline}"
        if self.action == "create":
            fields = self.fields
            label = fields.get("name") or fields.get("title") or fields.get("kind") or ""
            return f"+ {self.kind} {self.key}" + (f" ({label})" if label else "")
        if self.action in ("deactivate", "delete"):
            gone = "deactivated" if self.action == "deactivate" else "removed"
            return f"- {self.kind} {self.key} {gone}"
        parts = [f"{k}: {self.before.get(k)!r} -> {v!r}" for k, v in self.fields.items()]
        return f"~ {self.kind} {self.key}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ChangePlan:
    changes: list[Change]

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(Counter((c.kind, c.action) for c in self.changes))

    def summary(self) -> str:
        counts = self.counts()
        lines = []
        for kind, label in (("unit", "units"), ("person", "people"), ("duty", "duties")):
            created = counts.get((kind, "create"), 0)
            changed = counts.get((kind, "update"), 0)
            gone = counts.get((kind, "deactivate"), 0)
            lines.append(f"{label}: {created} created, {changed} changed, {gone} deactivated")
        leads = sum(n for (kind, _), n in counts.items() if kind == "leadership")
        lines.append(f"leaders and deputies: {leads} changed")
        shifts = any(change.kind == "shifts" for change in self.changes)
        lines.append(f"shifts: {'changed' if shifts else 'unchanged'}")
        added, changed, removed = (
            counts.get(("absence", action), 0) for action in ("create", "update", "delete")
        )
        lines.append(f"absences: {added} added, {changed} changed, {removed} removed")
        return "\n".join(lines)


def unit_snapshot(unit: UnitSpec) -> Snapshot:
    return {
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent,
        "timezone": unit.timezone,
        "active": True,
    }


KEPT_SOURCES = ("telegram", "chosen")  # language sources an import without a language keeps


def person_language(
    named: str | None, stored: Snapshot | None, default_language: str
) -> tuple[str, str]:
    """A person's language after an import, and its source: the one the files name ("org"),
    else the stored one if it came from Telegram or the person's own choice, else the plant's
    default ("default")."""
    if named is not None:
        return named, "org"
    if stored is not None and stored.get("language_source") in KEPT_SOURCES:
        return stored["language"], stored["language_source"]
    return default_language, "default"


def person_snapshot(
    person: PersonSpec, stored: Snapshot | None = None, default_language: str = "en"
) -> Snapshot:
    language, source = person_language(person.language, stored, default_language)
    fields = {k: v for k, v in asdict(person).items() if k != "key"}
    return fields | {"language": language, "language_source": source}


def duty_snapshot(duty: DutySpec) -> Snapshot:
    return {k: v for k, v in asdict(duty).items() if k != "key"} | {"active": True}


def absence_key(person: str, start: date, end: date) -> str:
    """An org absence's identity: one person, one span of days."""
    return f"{person} {start.isoformat()}..{end.isoformat()}"


def absence_snapshot(absence: AbsenceSpec) -> Snapshot:
    return asdict(absence)


def check(
    spec: OrgSpec,
    current: CurrentOrg,
    source: str,
    policies: Collection[str] | None = None,
) -> list[OrgProblem]:
    """Problems with keys and references across the whole spec (the files and the store).
    With ``policies`` (the config's policy names) a duty's policy must be one of them."""
    problems = list(spec.problems)

    def problem(row: str, field_name: str, message: str) -> None:
        problems.append(OrgProblem(source, row, field_name, message))

    for kind, items in (("unit", spec.units), ("person", spec.people), ("duty", spec.duties)):
        for key, count in Counter(item.key for item in items or []).items():
            if count > 1:
                problem(f"{kind} {key}", "key", f"appears {count} times; keys must be unique")
    spans = Counter(absence_key(a.person, a.start, a.end) for a in spec.absences or [])
    for key, count in spans.items():
        if count > 1:
            problem(f"absence {key}", "from", f"appears {count} times; give each span once")

    unit_keys = (
        {u.key for u in spec.units}
        if spec.units is not None
        else {k for k, s in current.units.items() if s["active"]}
    )
    person_keys = (
        {p.key for p in spec.people if p.active}
        if spec.people is not None
        else {k for k, s in current.people.items() if s["active"]}
    )
    if spec.units is not None:
        _check_tree(spec.units, unit_keys, person_keys, problem)
    for person in spec.people or []:
        if person.unit not in unit_keys:
            problem(f"person {person.key}", "unit", f"unknown unit {person.unit!r}")
    for duty in spec.duties or []:
        if duty.assignee and duty.assignee not in person_keys:
            problem(f"duty {duty.key}", "assignee", f"unknown or inactive person {duty.assignee!r}")
        if duty.unit and duty.unit not in unit_keys:
            problem(f"duty {duty.key}", "unit", f"unknown unit {duty.unit!r}")
        if policies is not None and duty.policy and duty.policy not in policies:
            known = ", ".join(sorted(policies))
            problem(
                f"duty {duty.key}",
                "policy",
                f"unknown policy {duty.policy!r} (expected one of {known} from the config)",
            )
    for absence in spec.absences or []:
        if absence.person not in person_keys:
            row = f"absence {absence_key(absence.person, absence.start, absence.end)}"
            problem(row, "person", f"unknown or inactive person {absence.person!r}")
    shifts = _shifts_in_force(spec, current)
    if shifts is not None:
        _check_shift_references(spec, current, shifts, problem)
    return problems


def _shifts_in_force(spec: OrgSpec, current: CurrentOrg) -> ShiftConfig | None:
    """The shifts after the import; None when the files' ``[shifts]`` has problems (already
    reported, so references to it are not checked)."""
    if spec.shifts is not None:
        return spec.shifts.config
    try:
        return parse_shifts(current.shifts or {})
    except ValueError:  # stored before a rule changed: nothing can be relied on
        return ShiftConfig()


def _check_shift_references(
    spec: OrgSpec, current: CurrentOrg, shifts: ShiftConfig, problem: Any
) -> None:
    """Crews of people and shift codes of duties: those in the files, and the stored active
    ones when the files bring new shifts and leave those records alone."""
    recheck_stored = spec.shifts is not None
    if spec.people is not None:
        crews = [(p.key, p.crew) for p in spec.people]
    else:
        stored = current.people.items() if recheck_stored else ()
        crews = [(key, s.get("crew")) for key, s in stored if s["active"]]
    known_crews = ", ".join(shifts.crews)
    for key, crew in crews:
        if crew is not None and crew not in shifts.crews:
            expected = f"expected one of {known_crews}" if known_crews else "[shifts] has no crews"
            problem(f"person {key}", "crew", f"unknown crew {crew!r} ({expected})")
    if spec.duties is not None:
        schedules = [(d.key, d.schedule) for d in spec.duties]
    else:
        stored = current.duties.items() if recheck_stored else ()
        schedules = [(key, s["schedule"]) for key, s in stored if s["active"]]
    for key, schedule in schedules:
        code = _shift_code(schedule)
        if code is None or (code in shifts.kinds or (code == ANY and shifts.kinds)):
            continue
        expected = (
            f"expected one of {', '.join([*shifts.kinds, ANY])}"
            if shifts.kinds
            else "[shifts] has no shift kinds"
        )
        problem(f"duty {key}", "schedule", f"unknown shift {code!r} ({expected})")


def _shift_code(schedule: Any) -> str | None:
    """The shift code of a ``{ shift = ... }`` schedule; None for other or unreadable ones
    (an unreadable schedule is reported where it is read)."""
    try:
        parsed = parse_schedule(schedule)
    except ValueError:
        return None
    return parsed.code if isinstance(parsed, OnShift) else None


def _check_tree(
    units: list[UnitSpec], unit_keys: set[str], person_keys: set[str], problem: Any
) -> None:
    roots = [u.key for u in units if u.parent is None]
    if len(roots) != 1:
        problem(
            "units",
            "parent",
            f"expected exactly one top unit (the plant), found {len(roots)}: "
            + (", ".join(roots) or "none"),
        )
    parent = {u.key: u.parent for u in units}
    for unit in units:
        row = f"unit {unit.key}"
        if unit.parent is not None and unit.parent not in unit_keys:
            problem(row, "parent", f"unknown unit {unit.parent!r}")
        for role in ("leader", "deputy"):
            who = getattr(unit, role)
            if who is not None and who not in person_keys:
                problem(row, role, f"unknown or inactive person {who!r}")
        if unit.leader is not None and unit.leader == unit.deputy:
            problem(row, "deputy", "the deputy must be someone other than the leader")
        seen, node = {unit.key}, unit.parent
        while node is not None and node in parent:
            if node in seen:
                problem(row, "parent", "the units form a cycle")
                break
            seen.add(node)
            node = parent[node]
        else:
            if len(seen) == MAX_DEPTH + 1:  # only the first unit too deep on each path
                problem(
                    row,
                    "parent",
                    f"the unit tree may be at most {MAX_DEPTH} levels deep, and this unit is"
                    f" level {MAX_DEPTH + 1} (under {' < '.join(_path(unit.parent, parent, 3))})",
                )


def _path(start: str | None, parent: Mapping[str, str | None], count: int) -> list[str]:
    """The first ``count`` keys from ``start`` up the tree, then "..." if it goes on."""
    keys: list[str] = []
    while start is not None and len(keys) < count:
        keys.append(start)
        start = parent.get(start)
    return keys + (["..."] if start is not None else [])


def plan(spec: OrgSpec, current: CurrentOrg, default_language: str = "en") -> ChangePlan:
    """The changes that make the store match the spec (``check`` must have passed);
    ``default_language`` is the plant's, for people whose language nothing else sets."""
    changes: list[Change] = []
    if spec.units is not None:
        desired = {u.key: unit_snapshot(u) for u in spec.units}
        changes += _diff("unit", desired, current.units)
        wanted = {
            (u.key, role): who
            for u in spec.units
            for role, who in (("leader", u.leader), ("deputy", u.deputy))
            if who is not None
        }
        changes += _diff_leadership(wanted, current.leadership)
    if spec.people is not None:
        people = {
            p.key: person_snapshot(p, current.people.get(p.key), default_language)
            for p in spec.people
        }
        changes += _diff("person", people, current.people)
    if spec.duties is not None:
        changes += _diff("duty", {d.key: duty_snapshot(d) for d in spec.duties}, current.duties)
    if spec.shifts is not None and spec.shifts.data != current.shifts:
        action: Literal["create", "update"] = "create" if current.shifts is None else "update"
        before = {} if current.shifts is None else {"data": current.shifts}
        changes.append(Change("shifts", "shifts", action, {"data": spec.shifts.data}, before))
    if spec.absences is not None:
        spans = {absence_key(a.person, a.start, a.end): absence_snapshot(a) for a in spec.absences}
        changes += _diff_absences(spans, current.absences)
    return ChangePlan(changes)


def _diff(
    kind: Kind, desired: Mapping[str, Snapshot], current: Mapping[str, Snapshot]
) -> list[Change]:
    changes = []
    for key, want in desired.items():
        have = current.get(key)
        if have is None:
            changes.append(Change(kind, key, "create", want))
            continue
        changed = {k: v for k, v in want.items() if have.get(k) != v}
        if changed:
            before = {k: have.get(k) for k in changed}
            changes.append(Change(kind, key, "update", changed, before))
    for key, have in current.items():
        if key not in desired and have["active"]:
            changes.append(Change(kind, key, "deactivate", {"active": False}, {"active": True}))
    return changes


def _diff_absences(wanted: Mapping[str, Snapshot], current: Mapping[str, Snapshot]) -> list[Change]:
    changes = []
    for key, want in wanted.items():
        have = current.get(key)
        if have is None:
            changes.append(Change("absence", key, "create", want))
            continue
        changed = {k: v for k, v in want.items() if have.get(k) != v}
        if changed:
            changes.append(Change("absence", key, "update", changed, {k: have[k] for k in changed}))
    for key, have in current.items():
        if key not in wanted:
            changes.append(Change("absence", key, "delete", {}, have))
    return changes


def _diff_leadership(
    wanted: Mapping[tuple[str, str], str], current: Mapping[tuple[str, str], str]
) -> list[Change]:
    changes = []
    for slot in sorted(set(wanted) | set(current)):
        want, have = wanted.get(slot), current.get(slot)
        if want != have:
            key = f"{slot[0]}.{slot[1]}"
            changes.append(Change("leadership", key, "update", {"person": want}, {"person": have}))
    return changes
