"""The org file, as plain data: units in a tree, people, duties, shifts, absences, and the
checks on them.

Sources: a TOML org file (``[[units]]``, ``[[people]]``, ``[[duties]]``, ``[shifts]``,
``[[absences]]``) and CSV files of people as HR exports them. Parsing never stops at the first
problem: every bad row is reported as an ``OrgProblem`` naming the file, the row and the field,
and the caller writes nothing if there is any. A section that a source does not have leaves
that kind of record alone; a section that is present is the whole truth for its kind (records
missing from it are deactivated, never deleted; absences, being plans rather than history, are
removed).

Rules for duties, shifts and absences:
- A duty's ``schedule`` (default "workdays"), ``due`` (required: a duty without a due time
  cannot be followed up) and ``nudge`` follow ``models.schedule`` and ``models.due``,
  including ``check_times`` on the three together. The schedule is kept as written (TOML
  dates as ISO text), the nudge as "HH:MM" ("7:30" becomes "07:30"), the due in canonical
  form ("17:00", "+1h30m", "end-of-shift"), so an unchanged file changes nothing.
- ``[shifts]`` follows ``models.shifts.parse_shifts`` and is kept whole in canonical form
  (times "HH:MM", dates ISO, "-" for a day off). At most one file may have it.
- Which shift codes a ``{ shift = ... }`` schedule may name and which crews a person's
  ``crew`` may name are references, checked across all files and the store by
  ``models.org_sync.check``.
- ``[[absences]]``: ``person``, ``from`` and ``to`` (ISO or TOML dates, both days included),
  ``kind`` (leave, sick, trip, other; default leave), ``note``.

Bounds, the same on every database (a longer value is a problem naming file, row and field,
never a database error): keys up to 64 characters; names and titles up to 200; posts up to
100; duty details up to 2,000; crews up to 32; time zones up to 64; absence notes up to 200; a
schedule up to 1,000 characters written as JSON. A due delay is at most 7 days
(``models.due``); the unit tree at most ``MAX_DEPTH`` levels (``models.org_sync``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, time
from typing import Any

from models.calendar import AbsenceKind, parse_clock, parse_date
from models.due import END_OF_SHIFT, DueAfter, DueAt, DueSpec, check_times, parse_due
from models.durations import format_duration
from models.language import match
from models.org_row import Row, shown
from models.org_spec import (
    ABSENCE_KINDS,
    ABSENCE_NOTE_MAX,
    CREW_NAME_MAX,
    DETAILS_MAX,
    EVIDENCE_KINDS,
    LANGUAGE_TAG,
    LANGUAGE_TAG_MAX,
    NAME_MAX,
    POST_MAX,
    SCHEDULE_MAX,
    UNIT_KINDS,
    AbsenceSpec,
    DutySpec,
    OrgProblem,
    OrgSpec,
    PersonSpec,
    ShiftsSpec,
    UnitSpec,
)
from models.quiet import parse_quiet_hours
from models.schedule import Schedule, Workdays, parse_schedule
from models.shifts import OFF, ShiftConfig, parse_shifts

SECTIONS = ("units", "people", "duties", "absences")  # arrays of tables; plus the [shifts] table
UNIT_FIELDS = ("key", "name", "kind", "parent", "leader", "deputy", "timezone")
PERSON_FIELDS = (
    "key", "name", "unit", "post", "timezone", "language", "active", "crew", "quiet_hours",
)  # fmt: skip
DUTY_FIELDS = (
    "key", "title", "details", "assignee", "post", "unit", "schedule",
    "nudge", "due", "evidence", "policy", "urgent",
)  # fmt: skip
ABSENCE_FIELDS = ("person", "from", "to", "kind", "note")


def parse_toml(
    data: Mapping[str, Any], source: str, languages: Collection[str] | None = None
) -> OrgSpec:
    """The org spec of a parsed TOML org file; a person's ``language`` must be one of
    ``languages`` (the catalogues' tags, passed in: see ``_language``)."""
    spec = OrgSpec()
    for section in sorted(set(data) - {*SECTIONS, "shifts"}):
        spec.problems.append(OrgProblem(source, section, "", "unknown section"))
    for section in SECTIONS:
        if section in data and not (
            isinstance(data[section], list) and all(isinstance(r, dict) for r in data[section])
        ):
            spec.problems.append(OrgProblem(source, section, "", f"expected [[{section}]] tables"))
            return spec
    if "shifts" in data:
        spec.shifts = _shifts(data["shifts"], source, spec.problems)

    def person(row: Row) -> PersonSpec | None:
        return _person(row, languages)

    readers = {**_READERS, "people": person}
    for section, read in readers.items():
        if section in data:
            records = [
                record
                for i, row in enumerate(data[section], 1)
                if (record := read(Row(source, f"{section}[{i}]", row, spec.problems)))
            ]
            setattr(spec, section, records)
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
    "crew": ("crew", "shift crew", "shift_crew"),
}


def parse_people_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    source: str,
    languages: Collection[str] | None = None,
) -> OrgSpec:
    """The people of an HR CSV export (``header`` is its first line); ``languages`` as for
    ``parse_toml``."""
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
        person = _person(Row(source, f"row {line}", data, spec.problems), languages)
        if person:
            spec.people.append(person)
    return spec


def _unit(row: Row) -> UnitSpec | None:
    row.unknown_fields(UNIT_FIELDS)
    key = row.key("key", required=True)
    name = row.text("name", required=True, max_length=NAME_MAX)
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


def _person(row: Row, languages: Collection[str] | None = None) -> PersonSpec | None:
    row.unknown_fields(PERSON_FIELDS)
    key = row.key("key", required=True)
    name = row.text("name", required=True, max_length=NAME_MAX)
    unit = row.key("unit", required=True)
    post = row.text("post", required=True, max_length=POST_MAX)
    language = _language(row, languages)
    person = PersonSpec(
        key=key or "",
        name=name or "",
        unit=unit or "",
        post=post or "",
        timezone=row.timezone("timezone"),
        language=language,
        active=row.flag("active", True),
        crew=row.text("crew", max_length=CREW_NAME_MAX),
        quiet_hours=_quiet_hours(row),
    )
    return person if key and name and unit and post else None


def _language(row: Row, languages: Collection[str] | None) -> str | None:
    """The person's language as the catalogue spells it ("zh-cn" -> "zh-Hans"), or None when
    the row names none. With ``languages`` None (the parser on its own) any well-formed tag is
    kept as written."""
    value = row.text("language")
    if value is None:
        return None
    if languages is None:
        if len(value) > LANGUAGE_TAG_MAX or not LANGUAGE_TAG.fullmatch(value):
            row.problem("language", f"expected a language tag such as 'en', got {shown(value)}")
            return None
        return value
    found = match(value, languages)
    if found is None:
        spoken = ", ".join(sorted(languages))
        row.problem("language", f"{shown(value)} is not a language execbot speaks ({spoken})")
    return found


def _quiet_hours(row: Row) -> str | None:
    """A person's own quiet hours: "22:00-06:00", "" (none), or absent (the plant default)."""
    value = row.data.get("quiet_hours")
    if value is None:
        return None
    if not isinstance(value, str):
        row.problem("quiet_hours", f'expected text like "22:00-06:00", got {shown(value)}')
        return None
    try:
        quiet = parse_quiet_hours(value, "quiet_hours")
    except ValueError as exc:
        row.problem("quiet_hours", str(exc).removeprefix("quiet_hours: "))
        return None
    return str(quiet) if quiet is not None else ""


def _duty(row: Row) -> DutySpec | None:
    row.unknown_fields(DUTY_FIELDS)
    key = row.key("key", required=True)
    title = row.text("title", required=True, max_length=NAME_MAX)
    assignee, unit = row.key("assignee"), row.key("unit")
    post = row.text("post", max_length=POST_MAX)
    if assignee and (post or unit):
        row.problem("assignee", "give either assignee, or post and unit, not both")
    elif not assignee and not (post and unit):
        row.problem("assignee", "required: a person key, or post and unit together")
    schedule = row.parsed("schedule", _schedule) if "schedule" in row.data else Workdays()
    nudge = row.parsed("nudge", lambda value: _minutes(parse_clock(value, "nudge"), "nudge"))
    due = row.parsed("due", _due, required=True)
    nudge_failed = "nudge" in row.data and nudge is None
    if schedule is not None and due is not None and not nudge_failed:
        _check_times(row, schedule, nudge, due[0])
    duty = DutySpec(
        key=key or "",
        title=title or "",
        details=row.text("details", default="", max_length=DETAILS_MAX) or "",
        assignee=assignee,
        post=post,
        unit=unit,
        schedule=_plain(row.data.get("schedule", "workdays")),
        nudge_time=nudge.strftime("%H:%M") if nudge else None,
        due=due[1] if due else "",
        evidence=row.choice("evidence", EVIDENCE_KINDS, "none"),
        policy=row.key("policy"),
        urgent=row.flag("urgent", False),
    )
    return duty if key and title else None


def _schedule(value: object) -> Schedule:
    """A schedule, refused when its stored (JSON) form would be longer than SCHEDULE_MAX."""
    size = len(json.dumps(_plain(value), ensure_ascii=False, default=str))
    if size > SCHEDULE_MAX:
        raise ValueError(f"at most {SCHEDULE_MAX} characters written as JSON, got {size}")
    return parse_schedule(value)


def _check_times(row: Row, schedule: Schedule, nudge: time | None, due: DueSpec) -> None:
    try:
        check_times(schedule, nudge, due)
    except ValueError as error:
        # check_times opens its message with "due" when the due is at fault, else the nudge is
        message = str(error)
        row.problem("due" if message.startswith("due") else "nudge", message)


def _due(value: object) -> tuple[DueSpec, str]:
    """The parsed due and its canonical text."""
    due = parse_due(value)
    if isinstance(due, DueAt):
        return due, _minutes(due.at, "due").strftime("%H:%M")
    if isinstance(due, DueAfter):
        return due, "+" + format_duration(due.delay)
    return due, END_OF_SHIFT


def _minutes(at: time, what: str) -> time:
    """``at``, refused if it has seconds (times are stored as "HH:MM")."""
    if at.second or at.microsecond:
        raise ValueError(f"{what}: expected whole minutes like '07:30', got {at.isoformat()!r}")
    return at


def _plain(value: Any) -> Any:
    """``value`` with TOML dates and times written as ISO text, so that it stores as JSON."""
    if isinstance(value, Mapping):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _absence(row: Row) -> AbsenceSpec | None:
    row.unknown_fields(ABSENCE_FIELDS)
    person = row.key("person", required=True)
    start = row.parsed("from", lambda value: parse_date(value, "from"), required=True)
    end = row.parsed("to", lambda value: parse_date(value, "to"), required=True)
    kind = row.choice("kind", ABSENCE_KINDS, AbsenceKind.LEAVE.value)
    note = row.text("note", default="", max_length=ABSENCE_NOTE_MAX) or ""
    if start and end and end < start:
        row.problem("to", f"{end} is before the first day {start}")
        return None
    return AbsenceSpec(person, start, end, kind, note) if person and start and end else None


# The reader of each array of tables, in the order the file is read.
_READERS: dict[str, Callable[[Row], object]] = {
    "units": _unit, "people": _person, "duties": _duty, "absences": _absence,
}  # fmt: skip


def _shifts(value: object, source: str, problems: list[OrgProblem]) -> ShiftsSpec:
    """The ``[shifts]`` table; its first problem is reported as ``shifts, <where>``."""
    try:
        if not isinstance(value, Mapping):
            raise ValueError(f"shifts: expected a [shifts] table, got {value!r}")
        config = parse_shifts(value)
        return ShiftsSpec(source, shifts_data(config), config)
    except ValueError as error:
        where, _, message = str(error).partition(": ")
        field_name = where.removeprefix("shifts").removeprefix(".")
        problems.append(OrgProblem(source, "shifts", field_name, message))
        return ShiftsSpec(source, {}, None)


def shifts_data(config: ShiftConfig) -> dict[str, Any]:
    """The canonical, storable form of a shift config (``parse_shifts`` reads it back).
    ValueError for what cannot be stored: times with seconds, over-long crew names."""
    for crew in config.crews:
        if len(crew) > CREW_NAME_MAX:
            raise ValueError(
                f"shifts.crews.{crew}: a crew name has at most {CREW_NAME_MAX} characters"
            )

    def clock(at: time, what: str) -> str:
        return _minutes(at, what).strftime("%H:%M")

    return {
        "kinds": {
            code: {
                "start": clock(kind.start, f"shifts.kinds.{code}.start"),
                "end": clock(kind.end, f"shifts.kinds.{code}.end"),
            }
            for code, kind in config.kinds.items()
        },
        "patterns": {
            key: {
                "cycle": [OFF if code is None else code for code in pattern.cycle],
                "anchor": pattern.anchor.isoformat(),
            }
            for key, pattern in config.patterns.items()
        },
        "crews": {
            key: {"pattern": crew.pattern_key, "offset": crew.offset_days}
            for key, crew in config.crews.items()
        },
    }
