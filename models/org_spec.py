"""The org file's records as plain data (``models.org`` reads them from the files), and the
bounds on their values.

Bounds, the same on every database (a longer value is a problem naming file, row and field,
never a database error): see the constants below; they are the lengths the tables store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from models.calendar import AbsenceKind
from models.shifts import ShiftConfig

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
UNIT_KINDS = ("plant", "workshop", "team", "unit")
EVIDENCE_KINDS = ("none", "photo", "text")
ABSENCE_KINDS = tuple(kind.value for kind in AbsenceKind)
# Longest values, in characters, as the tables store them (checked against them by a test).
ABSENCE_NOTE_MAX = 200
CREW_NAME_MAX = 32
NAME_MAX = 200  # unit and person names, duty titles
POST_MAX = 100
DETAILS_MAX = 2000
TIMEZONE_MAX = 64
LANGUAGE_TAG_MAX = 10  # a language as stored: a catalogue's tag ("zh-Hans")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}", re.ASCII)
SCHEDULE_MAX = 1000  # the schedule as JSON text


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
    language: str | None  # a catalogue's tag ("zh-Hans"), or None when the file names none
    active: bool
    crew: str | None = None
    quiet_hours: str | None = None  # "22:00-06:00", "" for none, None for the plant default


@dataclass(frozen=True, slots=True)
class DutySpec:
    key: str
    title: str
    details: str
    assignee: str | None  # a person key, or
    post: str | None  # a post within ``unit``: every holder of it
    unit: str | None
    schedule: Any  # as written: a name or a table (JSON-able)
    nudge_time: str | None  # "HH:MM"
    due: str  # canonical: "HH:MM", "+<duration>" or "end-of-shift"
    evidence: str
    policy: str | None
    urgent: bool


@dataclass(frozen=True, slots=True)
class ShiftsSpec:
    """The ``[shifts]`` table of one file; ``config`` is None when it has problems."""

    source: str
    data: Mapping[str, Any]  # canonical and JSON-able, as stored
    config: ShiftConfig | None


@dataclass(frozen=True, slots=True)
class AbsenceSpec:
    person: str
    start: date
    end: date
    kind: str
    note: str


@dataclass(slots=True)
class OrgSpec:
    """What the files say. ``None`` for a kind means no source mentioned it."""

    units: list[UnitSpec] | None = None
    people: list[PersonSpec] | None = None
    duties: list[DutySpec] | None = None
    absences: list[AbsenceSpec] | None = None
    shifts: ShiftsSpec | None = None
    problems: list[OrgProblem] = field(default_factory=list)

    def merge(self, other: OrgSpec) -> None:
        for kind in ("units", "people", "duties", "absences"):
            theirs = getattr(other, kind)
            if theirs is not None:
                mine = getattr(self, kind)
                setattr(self, kind, (mine or []) + theirs)
        if other.shifts is not None:
            if self.shifts is None:
                self.shifts = other.shifts
            else:
                self.problems.append(
                    OrgProblem(
                        other.shifts.source,
                        "shifts",
                        "",
                        f"[shifts] is also in {self.shifts.source}; keep it in one file",
                    )
                )
        self.problems.extend(other.problems)


def effective_timezone(
    person_tz: str | None, unit_chain_tzs: Iterable[str | None], plant_tz: str
) -> str:
    """A person's time zone: their own, else the nearest unit's up the tree (``unit_chain_tzs``
    starts at the person's unit), else the plant's."""
    if person_tz:
        return person_tz
    return next((tz for tz in unit_chain_tzs if tz), plant_tz)
