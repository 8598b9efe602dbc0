"""Deciding an org import: check the references of a spec, then compute what changes.

Pure: the current org comes in as plain snapshots keyed by stable keys, the spec as parsed
from the files; out comes either a list of problems or a ``ChangePlan`` of creations, changes
and deactivations. Nothing is ever deleted: a record missing from a section that the files do
have is deactivated, keeping its history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from models.org import DutySpec, OrgProblem, OrgSpec, PersonSpec, UnitSpec

Kind = Literal["unit", "person", "duty", "leadership"]
Snapshot = dict[str, Any]  # field name -> value, references written as keys


@dataclass(frozen=True, slots=True)
class CurrentOrg:
    """What is stored now: per kind, key -> snapshot (with an ``active`` field)."""

    units: Mapping[str, Snapshot] = field(default_factory=dict)
    people: Mapping[str, Snapshot] = field(default_factory=dict)
    duties: Mapping[str, Snapshot] = field(default_factory=dict)
    # (unit key, role) -> person key
    leadership: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    kind: Kind
    key: str
    action: Literal["create", "update", "deactivate"]
    fields: Mapping[str, Any]  # new values (create / update)
    before: Mapping[str, Any] = field(default_factory=dict)  # old values of changed fields

    def describe(self) -> str:
        if self.action == "create":
            label = self.fields.get("name") or self.fields.get("title") or ""
            return f"+ {self.kind} {self.key}" + (f" ({label})" if label else "")
        if self.action == "deactivate":
            return f"- {self.kind} {self.key} deactivated"
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
        return "\n".join(lines)


def unit_snapshot(unit: UnitSpec) -> Snapshot:
    return {
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent,
        "timezone": unit.timezone,
        "active": True,
    }


def person_snapshot(person: PersonSpec) -> Snapshot:
    return {k: v for k, v in asdict(person).items() if k != "key"}


def duty_snapshot(duty: DutySpec) -> Snapshot:
    return {k: v for k, v in asdict(duty).items() if k != "key"} | {"active": True}


def check(spec: OrgSpec, current: CurrentOrg, source: str) -> list[OrgProblem]:
    """Problems with keys and references across the whole spec (the files and the store)."""
    problems = list(spec.problems)

    def problem(row: str, field_name: str, message: str) -> None:
        problems.append(OrgProblem(source, row, field_name, message))

    for kind, items in (("unit", spec.units), ("person", spec.people), ("duty", spec.duties)):
        for key, count in Counter(item.key for item in items or []).items():
            if count > 1:
                problem(f"{kind} {key}", "key", f"appears {count} times; keys must be unique")

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
    return problems


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


def plan(spec: OrgSpec, current: CurrentOrg) -> ChangePlan:
    """The changes that make the store match the spec (``check`` must have passed)."""
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
        changes += _diff("person", {p.key: person_snapshot(p) for p in spec.people}, current.people)
    if spec.duties is not None:
        changes += _diff("duty", {d.key: duty_snapshot(d) for d in spec.duties}, current.duties)
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
