"""Org import of shifts, crews, validated duties and absences, and hand-recorded absences, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services.absences import AbsenceError, add_absence, cancel_absence, list_absences
from bot.services.org_import import import_org
from bot.store import audit
from bot.store.absences import absences_between
from models.calendar import AbsenceKind
from models.schedule import OnShift, parse_schedule
from models.shifts import parse_shifts
from models.tables import Absence, AuditEvent, Duty, OrgSection, Person
from tests.conftest import EXAMPLE_ORG, NOW

ABSENCE = """
[[absences]]
person = "d.richter"
from = "2026-12-21"
to = "2026-12-31"
kind = "leave"
note = "Christmas leave"
"""


def table_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Person, Duty, OrgSection, Absence, AuditEvent)
        }


def absences(engine: Engine) -> list[tuple[str, date, date, str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Person.key, Absence).join(Person)).all()
        return sorted((key, a.start, a.end, a.kind, a.note, a.source) for key, a in rows)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_example_imports_shifts_crews_duties_and_absences(engine: Engine) -> None:
    result = import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    assert result.problems == [], result.report()
    report = result.report()
    assert "+ shifts: kinds D, N; patterns four-crew; crews A, B, C, D" in report
    assert "+ absence d.richter 2026-12-21..2026-12-31 (leave)" in report
    with Session(engine) as session:
        section = session.get(OrgSection, "shifts")
        assert section is not None and section.updated_at == NOW
        shifts = parse_shifts(section.data)  # the stored form reads back
        assert shifts.shift_for("A", date(2026, 1, 5)) == shifts.kinds["D"]
        crews = {p.key: p.crew for p in session.exec(select(Person)).all() if p.crew}
        assert crews == {"a.weber": "A", "p.schulz": "C"}
        log = session.exec(select(Duty).where(Duty.key == "furnace-shift-log")).one()
        assert (log.schedule, log.nudge_time, log.due) == ({"shift": "any"}, None, "end-of-shift")
        assert parse_schedule(log.schedule, set(shifts.kinds)) == OnShift("any")  # reads back
    assert absences(engine) == [
        ("d.richter", date(2026, 12, 21), date(2026, 12, 31), "leave", "Christmas leave", "org")
    ]
    before = table_counts(engine)

    again = import_org(engine, [EXAMPLE_ORG], NOW + timedelta(hours=1), dry_run=False)
    assert not again.written and again.plan is not None and again.plan.changes == []
    assert "shifts: unchanged" in again.report()
    assert "absences: 0 added, 0 changed, 0 removed" in again.report()
    assert table_counts(engine) == before
    with Session(engine) as session:
        section = session.get(OrgSection, "shifts")
        assert section is not None and section.updated_at == NOW


def test_bad_rows_are_rejected_with_file_row_and_field(engine: Engine, tmp_path: Path) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    before = table_counts(engine)
    text = EXAMPLE_ORG.read_text().replace('crew = "C"', 'crew = "E"')
    text += (
        '\n[[duties]]\nkey = "weekly"\ntitle = "T"\nassignee = "a.weber"\n'
        'schedule = { weekdays = ["mnday"] }\nnudge = "07:00"\ndue = "09:00"\n'
        '\n[[duties]]\nkey = "no-due"\ntitle = "T"\nassignee = "a.weber"\nnudge = "07:00"\n'
        '\n[[duties]]\nkey = "night"\ntitle = "T"\nassignee = "a.weber"\n'
        'schedule = { shift = "X" }\ndue = "end-of-shift"\n'
        '\n[[absences]]\nperson = "a.weber"\nfrom = "2026-12-10"\nto = "2026-12-01"\n'
        '\n[[absences]]\nperson = "ghost"\nfrom = "2026-12-10"\nto = "2026-12-11"\n'
    )
    bad = write(tmp_path, "org.toml", text)
    result = import_org(engine, [bad], NOW, dry_run=False)
    assert not result.written
    assert [str(p) for p in result.problems] == [
        f"{bad}: duties[8], schedule: unknown weekday 'mnday' "
        "(expected mon, tue, wed, thu, fri, sat, sun)",
        f"{bad}: duties[9], due: required, but missing",
        f"{bad}: absences[2], to: 2026-12-01 is before the first day 2026-12-10",
        f"{bad}: absence ghost 2026-12-10..2026-12-11, person: unknown or inactive person 'ghost'",
        f"{bad}: person p.schulz, crew: unknown crew 'E' (expected one of A, B, C, D)",
        f"{bad}: duty night, schedule: unknown shift 'X' (expected one of D, N, any)",
    ]
    assert result.report().startswith("rejected: 6 problems, nothing was written")
    assert table_counts(engine) == before


def test_org_absences_are_replaced_and_cli_absences_survive(engine: Engine, tmp_path: Path) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    add_absence(engine, "d.richter", date(2027, 2, 1), date(2027, 2, 2), AbsenceKind.SICK, "", NOW)
    text = EXAMPLE_ORG.read_text().replace('note = "Christmas leave"', 'note = "Ski trip"')
    text += '\n[[absences]]\nperson = "a.weber"\nfrom = 2027-01-04\nto = 2027-01-08\n'
    changed = write(tmp_path, "org.toml", text)

    result = import_org(engine, [changed], NOW, dry_run=False)
    assert result.problems == [], result.report()
    assert "absences: 1 added, 1 changed, 0 removed" in result.report()
    assert "~ absence d.richter 2026-12-21..2026-12-31: note: 'Christmas leave' -> 'Ski trip'" in (
        result.report()
    )
    assert absences(engine) == [
        ("a.weber", date(2027, 1, 4), date(2027, 1, 8), "leave", "", "org"),
        ("d.richter", date(2026, 12, 21), date(2026, 12, 31), "leave", "Ski trip", "org"),
        ("d.richter", date(2027, 2, 1), date(2027, 2, 2), "sick", "", "cli"),
    ]

    start = text.index("\n[[absences]]")
    emptied = write(tmp_path, "emptied.toml", "absences = []\n" + text[:start])
    result = import_org(engine, [emptied], NOW, dry_run=False)
    assert result.problems == [], result.report()
    assert "- absence a.weber 2027-01-04..2027-01-08 removed" in result.report()
    assert absences(engine) == [
        ("d.richter", date(2027, 2, 1), date(2027, 2, 2), "sick", "", "cli")
    ]  # the org file's absences are gone, the hand-recorded one stays

    without_section = write(tmp_path, "none.toml", text[:start])
    result = import_org(engine, [without_section], NOW, dry_run=False)
    assert "absences: 0 added, 0 changed, 0 removed" in result.report()  # left alone


def test_crews_are_checked_against_stored_shifts(engine: Engine, tmp_path: Path) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    hr = write(
        tmp_path,
        "hr.csv",
        "key,name,unit,post,crew\n"
        "a.weber,Anna Weber,furnace-team,furnace operator,B\n"
        "p.schulz,Paul Schulz,furnace-team,furnace operator,F\n",
    )
    result = import_org(engine, [hr], NOW, dry_run=False)
    assert [str(p) for p in result.problems] == [
        f"{hr}: person p.schulz, crew: unknown crew 'F' (expected one of A, B, C, D)"
    ]

    # New shifts alone must still fit the stored people and duties.
    text = EXAMPLE_ORG.read_text()
    shifts_only = text[: text.index("\n[[units]]")].replace(
        'D = { pattern = "four-crew", offset = 6 }', ""
    )
    path = write(tmp_path, "shifts.toml", shifts_only.replace('crew = "A"', 'crew = "D"'))
    assert import_org(engine, [path], NOW, dry_run=False).problems == []  # nobody is on D
    with Session(engine) as session:
        section = session.get(OrgSection, "shifts")
        assert section is not None and set(section.data["crews"]) == {"A", "B", "C"}
    no_c = write(tmp_path, "no_c.toml", shifts_only.replace('C = { pattern = "four-crew"', "#"))
    assert [str(p) for p in import_org(engine, [no_c], NOW, dry_run=False).problems] == [
        f"{no_c}: person p.schulz, crew: unknown crew 'C' (expected one of A, B)"
    ]


def test_absences_between_and_hand_recorded_absences(engine: Engine) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    _, sick = add_absence(
        engine, "a.weber", date(2026, 12, 1), date(2026, 12, 3), AbsenceKind.SICK, "flu", NOW
    )
    with Session(engine) as session:
        spans = [(a.start, a.end) for a in absences_between(session, *[date(2026, 12, 3)] * 2)]
        assert spans == [(date(2026, 12, 1), date(2026, 12, 3))]
        assert absences_between(session, date(2026, 12, 4), date(2026, 12, 20)) == []
        spans = [
            (a.start, a.end)
            for a in absences_between(session, date(2026, 11, 30), date(2026, 12, 21))
        ]
        assert spans == [
            (date(2026, 12, 1), date(2026, 12, 3)),
            (date(2026, 12, 21), date(2026, 12, 31)),
        ]

    person, listed = list_absences(engine, "d.richter")
    assert person.name == "David Richter" and [a.source for a in listed] == ["org"]
    with pytest.raises(AbsenceError, match="comes from the org file"):
        cancel_absence(engine, "d.richter", listed[0].id, NOW)
    with pytest.raises(AbsenceError, match=r"d\.richter has no absence"):
        cancel_absence(engine, "d.richter", sick.id, NOW)
    with pytest.raises(AbsenceError, match="ends 2026-12-01 before it starts 2026-12-02"):
        add_absence(
            engine, "a.weber", date(2026, 12, 2), date(2026, 12, 1), AbsenceKind.SICK, "", NOW
        )
    with pytest.raises(AbsenceError, match="ghost: no such person"):
        add_absence(
            engine, "ghost", date(2026, 12, 2), date(2026, 12, 2), AbsenceKind.SICK, "", NOW
        )

    _, cancelled = cancel_absence(engine, "a.weber", sick.id, NOW)
    assert cancelled == sick
    with Session(engine) as session:
        events = [(e.kind, e.subject, e.data) for e in audit.events(session)]
    assert events[1:] == [
        ("absence.added", "a.weber", {
            "id": sick.id, "start": "2026-12-01", "end": "2026-12-03", "kind": "sick",
            "note": "flu",
        }),
        ("absence.cancelled", "a.weber", {
            "id": sick.id, "start": "2026-12-01", "end": "2026-12-03", "kind": "sick",
            "note": "flu",
        }),
    ]  # fmt: skip
    assert absences(engine) == [
        ("d.richter", date(2026, 12, 21), date(2026, 12, 31), "leave", "Christmas leave", "org")
    ]


def test_inactive_people_get_no_new_absences(engine: Engine, tmp_path: Path) -> None:
    text = EXAMPLE_ORG.read_text().replace(
        'name = "Paul Schulz"\n', 'name = "Paul Schulz"\nactive = false\n'
    )
    result = import_org(engine, [write(tmp_path, "org.toml", text)], NOW, dry_run=False)
    assert result.problems == [], result.report()
    with pytest.raises(AbsenceError, match=r"p\.schulz: Paul Schulz is no longer active"):
        add_absence(
            engine, "p.schulz", date(2026, 12, 2), date(2026, 12, 2), AbsenceKind.TRIP, "", NOW
        )
