"""The org file's duties, crews, shifts and absences, parsed and checked without a database."""

from __future__ import annotations

import tomllib
from datetime import date, time

import pytest

from models.org import parse_people_csv, parse_toml
from models.org_spec import effective_timezone
from models.org_sync import CurrentOrg, check, plan

SHIFTS = """
[shifts.kinds]
D = { start = "6:00", end = "18:00" }
N = { start = 18:00:00, end = "06:00" }
[shifts.patterns.four]
cycle = ["D", "D", "N", "N", "-", "-", "-", "-"]
anchor = 2026-01-05
[shifts.crews]
A = { pattern = "four", offset = 0 }
B = { pattern = "four", offset = 2 }
"""
PLANT = """
[[units]]
key = "plant"
name = "Plant"
[[people]]
key = "ann"
name = "Ann"
unit = "plant"
post = "operator"
crew = "A"
"""


def spec_of(text: str, source: str = "org.toml"):
    return parse_toml(tomllib.loads(text), source)


def duty(body: str) -> str:
    return f'[[duties]]\nkey = "d"\ntitle = "T"\nassignee = "ann"\n{body}\n'


def problems_of(text: str) -> list[str]:
    spec = spec_of(text)
    return [str(p) for p in check(spec, CurrentOrg(), "org.toml")]


def test_duty_values_are_kept_in_canonical_form() -> None:
    spec = spec_of(
        SHIFTS
        + PLANT
        + duty('nudge = "7:30"\ndue = "+90m"')
        + duty("schedule = { once = 2026-12-01 }\nnudge = 08:15:00\ndue = 17:00:00")
        + duty('schedule = { shift = "N" }\ndue = "End-of-Shift"')
    )
    assert spec.problems == []
    assert spec.duties is not None
    first, second, third = spec.duties
    assert (first.schedule, first.nudge_time, first.due) == ("workdays", "07:30", "+1h30m")
    assert (second.schedule, second.nudge_time, second.due) == (
        {"once": "2026-12-01"},  # stored as JSON: the TOML date as ISO text
        "08:15",
        "17:00",
    )
    assert (third.schedule, third.nudge_time, third.due) == ({"shift": "N"}, None, "end-of-shift")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'schedule = { weekdays = ["mnday"] }\nnudge = "07:00"\ndue = "09:00"',
            "duties[1], schedule: unknown weekday 'mnday' (expected mon, tue, wed, thu, fri, "
            "sat, sun)",
        ),
        (
            'schedule = "weekly"\nnudge = "07:00"\ndue = "09:00"',
            "duties[1], schedule: unknown schedule 'weekly'",
        ),
        ('schedule = { once = "soon" }\nnudge = "07:00"\ndue = "09:00"', "schedule: once: "),
        ('nudge = "07:00"', "duties[1], due: required, but missing"),
        ('nudge = "07:00"\ndue = "tomorrow"', "duties[1], due: expected a time of day like"),
        ('nudge = "07:00"\ndue = "+0m"', "duties[1], due: expected a time of day like"),
        ('nudge = "7h"\ndue = "09:00"', "duties[1], nudge: expected a time of day like '07:30'"),
        ('nudge = 07:00:30\ndue = "09:00"', "duties[1], nudge: expected whole minutes"),
        ('due = "09:00"', 'duties[1], nudge: needs a nudge time like nudge = "07:30"'),
        (
            'schedule = { cron = "0 7 * * 1-5" }\nnudge = "07:00"\ndue = "09:00"',
            "duties[1], nudge: the cron '0 7 * * 1-5' already sets the nudge time",
        ),
        (
            'nudge = "07:00"\ndue = "end-of-shift"',
            "duties[1], due: due 'end-of-shift' needs a shift schedule",
        ),
    ],
)
def test_bad_duty_fields_are_named(body: str, expected: str) -> None:
    problems = [str(p) for p in spec_of(PLANT + duty(body)).problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith("org.toml: ")
    assert expected in problems[0]


def test_shift_references_are_checked_against_the_shifts_in_force() -> None:
    text = SHIFTS + PLANT + duty('schedule = { shift = "X" }\ndue = "end-of-shift"')
    text = text.replace('crew = "A"', 'crew = "Z"')
    assert problems_of(text) == [
        "org.toml: person ann, crew: unknown crew 'Z' (expected one of A, B)",
        "org.toml: duty d, schedule: unknown shift 'X' (expected one of D, N, any)",
    ]
    without_shifts = PLANT + duty('schedule = { shift = "any" }\ndue = "end-of-shift"')
    assert problems_of(without_shifts) == [
        "org.toml: person ann, crew: unknown crew 'A' ([shifts] has no crews)",
        "org.toml: duty d, schedule: unknown shift 'any' ([shifts] has no shift kinds)",
    ]


def test_stored_records_are_checked_when_only_the_shifts_change() -> None:
    current = CurrentOrg(
        people={"ann": {"crew": "B", "active": True}, "old": {"crew": "Q", "active": False}},
        duties={"night": {"schedule": {"shift": "N"}, "active": True}},
    )
    narrower = SHIFTS.replace('B = { pattern = "four", offset = 2 }', "").replace(
        'N = { start = 18:00:00, end = "06:00" }', ""
    )
    narrower = narrower.replace('"N", "N"', '"-", "-"')
    problems = [str(p) for p in check(spec_of(narrower), current, "org.toml")]
    assert problems == [
        "org.toml: person ann, crew: unknown crew 'B' (expected one of A)",
        "org.toml: duty night, schedule: unknown shift 'N' (expected one of D, any)",
    ]  # the inactive person's crew does not matter


def test_bad_shifts_are_reported_once_and_not_echoed_by_references() -> None:
    text = SHIFTS.replace('end = "18:00"', 'end = "late"') + PLANT
    problems = [str(p) for p in check(spec_of(text), CurrentOrg(), "org.toml")]
    assert problems == [
        "org.toml: shifts, kinds.D.end: expected a time of day like '07:30' (24-hour clock), "
        "got 'late'"
    ]


def test_shifts_are_planned_whole_and_only_when_they_differ() -> None:
    spec = spec_of(SHIFTS)
    assert spec.shifts is not None
    data = dict(spec.shifts.data)
    assert data["kinds"] == {
        "D": {"start": "06:00", "end": "18:00"},
        "N": {"start": "18:00", "end": "06:00"},
    }
    assert data["patterns"]["four"]["anchor"] == "2026-01-05"
    created = plan(spec, CurrentOrg())
    assert [c.describe() for c in created.changes] == [
        "+ shifts: kinds D, N; patterns four; crews A, B"
    ]
    assert "shifts: changed" in created.summary()
    unchanged = plan(spec, CurrentOrg(shifts=data))
    assert unchanged.changes == []
    assert "shifts: unchanged" in unchanged.summary()


def test_shifts_in_two_files_is_a_problem() -> None:
    spec = spec_of(SHIFTS, "a.toml")
    spec.merge(spec_of(SHIFTS, "b.toml"))
    assert [str(p) for p in spec.problems] == [
        "b.toml: shifts: [shifts] is also in a.toml; keep it in one file"
    ]


def test_absences_parse_check_and_diff() -> None:
    text = PLANT + (
        '[[absences]]\nperson = "ann"\nfrom = 2026-12-21\nto = "2026-12-23"\nnote = "trip"\n'
        '[[absences]]\nperson = "ann"\nfrom = "2027-01-04"\nto = "2027-01-04"\nkind = "sick"\n'
    )
    spec = spec_of(text)
    assert spec.problems == []
    old = {"person": "ann", "start": date(2026, 11, 2), "end": date(2026, 11, 3)}
    current = CurrentOrg(
        people={"ann": {"crew": "A", "active": True}},
        absences={
            "ann 2026-12-21..2026-12-23": {
                "person": "ann",
                "start": date(2026, 12, 21),
                "end": date(2026, 12, 23),
                "kind": "leave",
                "note": "",
            },
            "ann 2026-11-02..2026-11-03": old | {"kind": "leave", "note": ""},
        },
    )
    described = sorted(c.describe() for c in plan(spec, current).changes if c.kind == "absence")
    assert described == [
        "+ absence ann 2027-01-04..2027-01-04 (sick)",
        "- absence ann 2026-11-02..2026-11-03 removed",
        "~ absence ann 2026-12-21..2026-12-23: note: '' -> 'trip'",
    ]
    assert "absences: 1 added, 1 changed, 1 removed" in plan(spec, current).summary()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('person = "ann"\nto = "2026-12-01"', "absences[1], from: required, but missing"),
        (
            'person = "ann"\nfrom = "2026-12-01"\nto = "01.12.2026"',
            "absences[1], to: expected a date like '2026-12-01', got '01.12.2026'",
        ),
        (
            'person = "ann"\nfrom = "2026-12-05"\nto = "2026-12-01"',
            "absences[1], to: 2026-12-01 is before the first day 2026-12-05",
        ),
        (
            'person = "ann"\nfrom = "2026-12-01"\nto = "2026-12-01"\nkind = "holiday"',
            "absences[1], kind: expected one of leave, sick, trip, other, got 'holiday'",
        ),
        (
            'person = "ann"\nfrom = "2026-12-01"\nto = "2026-12-01"\nreason = "x"',
            "absences[1], reason: unknown field",
        ),
    ],
)
def test_bad_absence_rows_are_named(body: str, expected: str) -> None:
    problems = [str(p) for p in spec_of(f"[[absences]]\n{body}\n").problems]
    assert problems == [f"org.toml: {expected}"]


def test_absence_references_and_duplicates() -> None:
    row = '[[absences]]\nperson = "{who}"\nfrom = "2026-12-01"\nto = "2026-12-02"\n'
    text = PLANT.replace('crew = "A"', "") + row.format(who="ann") * 2 + row.format(who="bob")
    assert problems_of(text) == [
        "org.toml: absence ann 2026-12-01..2026-12-02, from: appears 2 times; give each span once",
        "org.toml: absence bob 2026-12-01..2026-12-02, person: unknown or inactive person 'bob'",
    ]


def test_csv_crew_column() -> None:
    spec = parse_people_csv(
        ["Employee ID", "Name", "Team", "Position", "Shift Crew"],
        [["ann", "Ann", "plant", "operator", "A"], ["bob", "Bob", "plant", "clerk", ""]],
        "hr.csv",
    )
    assert spec.problems == []
    assert [(p.key, p.crew) for p in spec.people or []] == [("ann", "A"), ("bob", None)]


def test_effective_timezone_person_then_nearest_unit_then_plant() -> None:
    plant = "Europe/Berlin"
    assert effective_timezone("Asia/Tokyo", ["America/New_York"], plant) == "Asia/Tokyo"
    assert effective_timezone(None, [None, "America/New_York", "UTC"], plant) == "America/New_York"
    assert effective_timezone(None, [None, None], plant) == plant
    assert effective_timezone(None, [], plant) == plant


def test_toml_times_in_shifts_become_text() -> None:
    spec = spec_of(SHIFTS)
    assert spec.shifts is not None and spec.shifts.config is not None
    assert spec.shifts.config.kinds["N"].start == time(18, 0)
    assert spec.shifts.data["kinds"]["N"]["start"] == "18:00"
