"""Org import on SQLite and PostgreSQL: idempotent, dry run, bad rows rejected whole,
deactivation instead of deletion, HR CSV exports."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.services.org_import import import_org
from bot.store import audit, org
from models.tables import Absence, AuditEvent, Duty, Leadership, OrgSection, Person, Unit
from tests.conftest import EXAMPLE_ORG, NOW


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Unit, Person, Duty, Leadership, OrgSection, Absence, AuditEvent)
        }


def test_import_creates_the_org_and_rerun_changes_nothing(engine: Engine) -> None:
    first = import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    assert first.problems == []
    assert first.written
    report = first.report()
    assert "units: 6 created, 0 changed, 0 deactivated" in report
    assert "people: 11 created, 0 changed, 0 deactivated" in report
    assert "duties: 7 created, 0 changed, 0 deactivated" in report
    assert "shifts: changed" in report
    assert "absences: 1 added, 0 changed, 0 removed" in report
    assert "+ person a.weber (Anna Weber)" in report
    after_first = counts(engine)
    assert after_first == {
        "Unit": 6, "Person": 11, "Duty": 7, "Leadership": 7, "OrgSection": 1, "Absence": 1,
        "AuditEvent": 1,
    }  # fmt: skip

    second = import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    assert not second.written
    assert second.plan is not None and second.plan.changes == []
    assert "already up to date" in second.report()
    assert counts(engine) == after_first

    with Session(engine) as session:
        casting = org.unit_by_key(session, "casting")
        plant = org.unit_by_key(session, "plant")
        assert casting is not None and plant is not None
        assert casting.parent_id == plant.id
        hanna = org.person_by_key(session, "h.braun")
        assert hanna is not None and hanna.id is not None
        assert [u.key for u in org.units_led_by(session, hanna.id)] == ["casting"]
        reading = session.exec(select(Duty).where(Duty.key == "furnace-reading")).one()
        assert (reading.post, reading.unit_id, reading.person_id) == (
            "furnace operator",
            session.exec(select(Unit.id).where(Unit.key == "furnace-team")).one(),
            None,
        )
        assert casting.created_at == NOW  # stored and loaded back as an aware UTC instant


def test_dry_run_writes_nothing(engine: Engine) -> None:
    result = import_org(engine, [EXAMPLE_ORG], NOW, dry_run=True)
    assert not result.written
    assert result.report().startswith("dry run, nothing written:")
    assert "people: 11 created" in result.report()
    assert counts(engine) == {
        "Unit": 0, "Person": 0, "Duty": 0, "Leadership": 0, "OrgSection": 0, "Absence": 0,
        "AuditEvent": 0,
    }  # fmt: skip


def test_changes_and_deactivation_keep_history(engine: Engine, tmp_path: Path) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    text = EXAMPLE_ORG.read_text()
    # Anna moves post, Paul leaves (removed from the file), the casting deputy is dropped.
    text = text.replace(
        'post = "furnace operator"\ncrew = "A"\n\n[[people]]\nkey = "p.schulz"',
        'post = "senior operator"\ncrew = "A"\n\n[[people]]\nkey = "p.schulz"',
    )
    start = text.index('[[people]]\nkey = "p.schulz"')
    end = text.index("[[people]]", start + 5)
    text = text[:start] + text[end:]
    text = text.replace('deputy = "s.vogel"\n', "")
    changed = tmp_path / "plant.toml"
    changed.write_text(text)

    result = import_org(engine, [changed], NOW, dry_run=False)
    assert result.problems == [], result.report()
    report = result.report()
    assert "people: 0 created, 1 changed, 1 deactivated" in report
    assert "~ person a.weber: post: 'furnace operator' -> 'senior operator'" in report
    assert "- person p.schulz deactivated" in report
    assert "leaders and deputies: 1 changed" in report
    with Session(engine) as session:
        paul = org.person_by_key(session, "p.schulz")
        assert paul is not None and paul.active is False  # kept, not deleted
        assert session.exec(select(func.count()).select_from(Leadership)).one() == 6


def test_bad_rows_are_rejected_whole_with_file_row_and_field(
    engine: Engine, tmp_path: Path
) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    before = counts(engine)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE_ORG.read_text()
        + '\n[[people]]\nkey = "x.new"\nname = "New Person"\nunit = "nowhere"\npost = "op"\n'
        + '\n[[people]]\nkey = "bad key!"\nname = "Bad"\nunit = "plant"\npost = "op"\n'
        + '\n[[duties]]\nkey = "d1"\ntitle = "T"\nassignee = "a.weber"\nnudge = "25:00"\n'
        + '\n[[duties]]\nkey = "d2"\ntitle = "T"\nevidence = "video"\nassignee = "ghost"\n'
    )
    result = import_org(engine, [bad], NOW, dry_run=False)
    assert not result.written
    messages = [str(p) for p in result.problems]
    assert f"{bad}: people[13], key: 'bad key!' is not a valid key" in " | ".join(messages)
    assert any("person x.new, unit: unknown unit 'nowhere'" in m for m in messages)
    assert (
        f"{bad}: duties[8], nudge: expected a time of day like '07:30' (24-hour clock), got '25:00'"
        in messages
    )
    assert f"{bad}: duties[9], evidence: expected one of none, photo, text, got 'video'" in messages
    assert any("duty d2, assignee: unknown or inactive person 'ghost'" in m for m in messages)
    assert result.report().startswith("rejected: ")
    assert counts(engine) == before  # nothing written, not even the valid rows


def test_structural_problems(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "tree.toml"
    path.write_text(
        '[[units]]\nkey = "a"\nname = "A"\nparent = "b"\n'
        '[[units]]\nkey = "b"\nname = "B"\nparent = "a"\n'
        '[[units]]\nkey = "a"\nname = "A again"\n'
        "[extra]\n"
    )
    messages = [str(p) for p in import_org(engine, [path], NOW, dry_run=False).problems]
    assert f"{path}: extra: unknown section" in messages
    assert any("key: appears 2 times" in m for m in messages)
    assert any("the units form a cycle" in m for m in messages)


def test_hr_csv_export(engine: Engine, tmp_path: Path) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    csv_path = tmp_path / "hr.csv"
    rows = ["Employee ID,Full Name,Department,Job Title,Time Zone,Shift Crew,Lang"]
    with Session(engine) as session:
        for person in session.exec(select(Person)).all():
            unit = session.get(Unit, person.unit_id)
            assert unit is not None
            named = person.language if person.language_source == "org" else ""
            if person.key != "d.richter":  # left the company
                rows.append(
                    f"{person.key},{person.name},{unit.key},{person.post},"
                    f"{person.timezone or ''},{person.crew or ''},{named}"
                )
    rows.append('n.new,"Neumann, Nina",line-1,assembler,America/New_York,,EN-gb')
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")  # Excel writes a BOM

    result = import_org(engine, [csv_path], NOW, dry_run=False)
    assert result.problems == [], result.report()
    assert "people: 1 created, 0 changed, 1 deactivated" in result.report()
    assert "units: 0 created" in result.report()  # a people file leaves units alone
    with Session(engine) as session:
        nina = org.person_by_key(session, "n.new")
        assert nina is not None and nina.name == "Neumann, Nina"
        assert nina.timezone == "America/New_York"
        assert (nina.language, nina.language_source) == ("en", "org")


def test_csv_problems_name_row_and_column(engine: Engine, tmp_path: Path) -> None:
    import_org(engine, [EXAMPLE_ORG], NOW, dry_run=False)
    before = counts(engine)
    path = tmp_path / "hr.csv"
    path.write_text(
        "key,name,unit,post,timezone\n"
        "a.weber,Anna Weber,furnace-team,operator,\n"
        "b.x,,furnace-team,operator,\n"
        "c.y,C Y,furnace-team,operator,Moon/Base\n"
        "d.z,D Z,furnace-team\n"
    )
    result = import_org(engine, [path], NOW, dry_run=False)
    messages = [str(p) for p in result.problems]
    assert f"{path}: row 3, name: required, but missing or empty" in messages
    assert any(m.startswith(f"{path}: row 4, timezone: expected an IANA") for m in messages)
    assert f"{path}: row 5: has 3 cells, header has 5" in messages
    assert counts(engine) == before

    missing = tmp_path / "cols.csv"
    missing.write_text("key,name,salary\n1,A,100\n")
    messages = [str(p) for p in import_org(engine, [missing], NOW, dry_run=False).problems]
    assert f"{missing}: row 1, salary: unknown column" in messages
    assert any("row 1, unit: missing column" in m for m in messages)


def test_unreadable_files(engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[units]\n")
    other = tmp_path / "org.xlsx"
    other.write_bytes(b"PK\x03\x04")
    result = import_org(engine, [broken, other, tmp_path / "gone.toml"], NOW, dry_run=False)
    messages = [str(p) for p in result.problems]
    assert any(m.startswith(f"{broken}: file: not valid TOML") for m in messages)
    assert f"{other}: file: expected a .toml org file or a .csv file of people" in messages
    assert f"{tmp_path / 'gone.toml'}: file: no such file" in messages


def test_personal_quiet_hours(engine: Engine, tmp_path: Path) -> None:
    text = (
        EXAMPLE_ORG.read_text()
        .replace('name = "Anna Weber"\n', 'name = "Anna Weber"\nquiet_hours = "21:00-05:00"\n')
        .replace('name = "Paul Schulz"\n', 'name = "Paul Schulz"\nquiet_hours = ""\n')
    )
    org = tmp_path / "org.toml"
    org.write_text(text)
    assert import_org(engine, [org], NOW, dry_run=False).problems == []
    with Session(engine) as session:
        quiet = {p.key: p.quiet_hours for p in session.exec(select(Person)).all()}
    assert (quiet["a.weber"], quiet["p.schulz"], quiet["m.keller"]) == ("21:00-05:00", "", None)
    org.write_text(text.replace('quiet_hours = "21:00-05:00"', 'quiet_hours = "late"'))
    result = import_org(engine, [org], NOW, dry_run=False)
    assert [p.field for p in result.problems] == ["quiet_hours"]


def test_an_org_file_with_a_long_path_is_imported_and_audited(
    engine: Engine, tmp_path: Path
) -> None:
    """Found under parallel test workers: the audit subject (the files imported) has 80
    characters, and a longer path made PostgreSQL refuse the whole import."""
    deep = tmp_path / ("a-long-folder-name-" * 6) / "plant.toml"
    deep.parent.mkdir(parents=True)
    deep.write_text(EXAMPLE_ORG.read_text())
    result = import_org(engine, [deep], NOW, dry_run=False)
    assert result.written and not result.problems
    with Session(engine) as session:
        [event] = audit.events(session, "org.imported")
    assert len(event.subject) == audit.SUBJECT_LIMIT
    assert event.subject.startswith("…") and event.subject.endswith("/plant.toml")
    assert event.data["files"] == str(deep)
