"""The org file, as plain data: units in a tree, people, duties, and the checks on them.

Sources: a TOML org file (``[[units]]``, ``[[people]]``, ``[[duties]]``) and CSV files of people
as HR exports them. Parsing never stops at the first problem: every bad row is reported as an
``OrgProblem`` naming the file, the row and the field, and the caller writes nothing if there is
any. A section that a source does not have leaves that kind of record alone; a section that is
present is the whole truth for its kind (records missing from it are deactivated, never
deleted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.durations import parse_duration

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
UNIT_KINDS = ("plant", "workshop", "team", "unit")
EVIDENCE_KINDS = ("none", "photo", "text")


@dataclass(frozen=True, slots=True)
class OrgProblem:
    source: str  # file name
    row: str  # "units[2]", "row 7"
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.row}, {self.field}" if self.field else self.row
        return f"{self.source}: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class UnitSpec:
    key: str
    name: str
    kind: str
    parent: str | None
    leader: str | None
    deputy: str | None
    timezone: str | None


@dataclass(frozen=True, slots=True)
class PersonSpec:
    key: str
    name: str
    unit: str
    post: str
    timezone: str | None
    language: str
    active: bool


@dataclass(frozen=True, slots=True)
class DutySpec:
    key: str
    title: str
    details: str
    assignee: str | None  # a person key, or
    post: str | None  # a post within ``unit``: every holder of it
    unit: str | None
    schedule: Any
    nudge_time: str | None
    due: str
    evidence: str
    policy: str | None
    urgent: bool


@dataclass(slots=True)
class OrgSpec:
    """What the files say. ``None`` for a kind means no source mentioned it."""

    units: list[UnitSpec] | None = None
    people: list[PersonSpec] | None = None
    duties: list[DutySpec] | None = None
    problems: list[OrgProblem] = field(default_factory=list)

    def merge(self, other: OrgSpec) -> None:
        for kind in ("units", "people", "duties"):
            theirs = getattr(other, kind)
            if theirs is not None:
                mine = getattr(self, kind)
                setattr(self, kind, (mine or []) + theirs)
        self.problems.extend(other.problems)


class _Row:
    """Reads fields of one row, recording problems instead of raising."""

    def __init__(self, source: str, row: str, data: Mapping[str, Any], problems: list[OrgProblem]):
        self.source, self.row, self.data, self.problems = source, row, data, problems

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append(OrgProblem(self.source, self.row, field_name, message))

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(name, "required, but missing or empty")
            return default
        if not isinstance(value, str):
            self.problem(name, f"expected text, got {value!r}")
            return default
        return value.strip()

    def key(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and not KEY_PATTERN.match(value):
            self.problem(
                name,
                f"{value!r} is not a valid key (letters, digits, '.', '_', '-'; up to 64)",
            )
            return None
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        self.problem(name, f"expected true or false, got {value!r}")
        return default

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        value = self.text(name, default=default) or default
        if value not in options:
            self.problem(name, f"expected one of {', '.join(options)}, got {value!r}")
            return default
        return value

    def timezone(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(name, f"expected an IANA timezone such as 'Europe/Berlin', got {value!r}")
            return None
        return value

    def unknown_fields(self, allowed: Iterable[str]) -> None:
        for name in sorted(set(self.data) - set(allowed)):
            self.problem(name, "unknown field")


_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
UNIT_FIELDS = ("key", "name", "kind", "parent", "leader", "deputy", "timezone")
PERSON_FIELDS = ("key", "name", "unit", "post", "timezone", "language", "active")
DUTY_FIELDS = (
    "key", "title", "details", "assignee", "post", "unit", "schedule",
    "nudge", "due", "evidence", "policy", "urgent",
)  # fmt: skip


def parse_toml(data: Mapping[str, Any], source: str) -> OrgSpec:
    """The org spec of a parsed TOML org file."""
    spec = OrgSpec()
    for section in sorted(set(data) - {"units", "people", "duties"}):
        spec.problems.append(OrgProblem(source, section, "", "unknown section"))
    for section in ("units", "people", "duties"):
        if section in data and not (
            isinstance(data[section], list) and all(isinstance(r, dict) for r in data[section])
        ):
            spec.problems.append(OrgProblem(source, section, "", f"expected [[{section}]] tables"))
            return spec
    if "units" in data:
        spec.units = [
            u
            for i, row in enumerate(data["units"], 1)
            if (u := _unit(_Row(source, f"units[{i}]", row, spec.problems)))
        ]
    if "people" in data:
        spec.people = [
            p
            for i, row in enumerate(data["people"], 1)
            if (p := _person(_Row(source, f"people[{i}]", row, spec.problems)))
        ]
    if "duties" in data:
        spec.duties = [
            d
            for i, row in enumerate(data["duties"], 1)
            if (d := _duty(_Row(source, f"duties[{i}]", row, spec.problems)))
        ]
    return spec


# HR exports name their columns in many ways; these are the ones understood (case-insensitive).
CSV_COLUMNS = {
    "key": ("key", "employee_id", "employee id", "personnel_no", "personnel no", "staff_id"),
    "name": ("name", "full_name", "full name", "employee name"),
    "unit": ("unit", "team", "department", "org_unit", "org unit"),
    "post": ("post", "position", "job_title", "job title", "role"),
    "timezone": ("timezone", "time zone", "tz"),
    "language": ("language", "lang"),
    "active": ("active", "status_active"),
}


def parse_people_csv(header: Sequence[str], rows: Iterable[Sequence[str]], source: str) -> OrgSpec:
    """The people of an HR CSV export (``header`` is its first line)."""
    spec = OrgSpec(people=[])
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        name = title.strip().lower()
        matches = [field for field, aliases in CSV_COLUMNS.items() if name in aliases]
        if not matches:
            spec.problems.append(OrgProblem(source, "row 1", title, "unknown column"))
        elif matches[0] in columns:
            spec.problems.append(OrgProblem(source, "row 1", title, "duplicate column"))
        else:
            columns[matches[0]] = index
    for required in ("key", "name", "unit", "post"):
        if required not in columns:
            spec.problems.append(
                OrgProblem(
                    source,
                    "row 1",
                    required,
                    f"missing column (one of: {', '.join(CSV_COLUMNS[required])})",
                )
            )
    if spec.problems:
        return spec
    assert spec.people is not None
    for line, cells in enumerate(rows, 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            spec.problems.append(
                OrgProblem(
                    source, f"row {line}", "", f"has {len(cells)} cells, header has {len(header)}"
                )
            )
            continue
        data = {name: cells[index] for name, index in columns.items()}
        person = _person(_Row(source, f"row {line}", data, spec.problems))
        if person:
            spec.people.append(person)
    return spec


def _unit(row: _Row) -> UnitSpec | None:
    row.unknown_fields(UNIT_FIELDS)
    key = row.key("key", required=True)
    name = row.text("name", required=True)
    unit = UnitSpec(
        key=key or "",
        name=name or "",
        kind=row.choice("kind", UNIT_KINDS, "unit"),
        parent=row.key("parent"),
        leader=row.key("leader"),
        deputy=row.key("deputy"),
        timezone=row.timezone("timezone"),
    )
    return unit if key and name else None


def _person(row: _Row) -> PersonSpec | None:
    row.unknown_fields(PERSON_FIELDS)
    key = row.key("key", required=True)
    name = row.text("name", required=True)
    unit = row.key("unit", required=True)
    post = row.text("post", required=True)
    language = row.text("language", default="en") or "en"
    if not re.fullmatch(r"[a-z]{2,3}", language):
        row.problem("language", f"expected a language code such as 'en', got {language!r}")
    person = PersonSpec(
        key=key or "",
        name=name or "",
        unit=unit or "",
        post=post or "",
        timezone=row.timezone("timezone"),
        language=language,
        active=row.flag("active", True),
    )
    return person if key and name and unit and post else None


def _duty(row: _Row) -> DutySpec | None:
    row.unknown_fields(DUTY_FIELDS)
    key = row.key("key", required=True)
    title = row.text("title", required=True)
    assignee, post, unit = row.key("assignee"), row.text("post"), row.key("unit")
    if assignee and (post or unit):
        row.problem("assignee", "give either assignee, or post and unit, not both")
    elif not assignee and not (post and unit):
        row.problem("assignee", "required: a person key, or post and unit together")
    nudge = row.text("nudge")
    if nudge is not None and not TIME_PATTERN.match(nudge):
        row.problem("nudge", f"expected a time of day like '07:30', got {nudge!r}")
    due = row.text("due", default="") or ""
    if due and not _valid_due(due):
        row.problem(
            "due",
            f"expected a time like '10:00', an offset like '+4h', or 'end-of-shift', got {due!r}",
        )
    schedule = row.data.get("schedule", "workdays")
    if not isinstance(schedule, str | dict):
        row.problem("schedule", f"expected a schedule name or table, got {schedule!r}")
    duty = DutySpec(
        key=key or "",
        title=title or "",
        details=row.text("details", default="") or "",
        assignee=assignee,
        post=post,
        unit=unit,
        schedule=schedule,
        nudge_time=nudge,
        due=due,
        evidence=row.choice("evidence", EVIDENCE_KINDS, "none"),
        policy=row.key("policy"),
        urgent=row.flag("urgent", False),
    )
    return duty if key and title else None


def _valid_due(value: str) -> bool:
    if value == "end-of-shift" or TIME_PATTERN.match(value):
        return True
    if value.startswith("+"):
        try:
            parse_duration(value[1:])
        except ValueError:
            return False
        return True
    return False
