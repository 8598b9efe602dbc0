"""Items 5 and 17: ``execbot org import`` refuses values out of bounds with the file, row and
field named, the same on SQLite and PostgreSQL (skipped where no server answers), and stores
values at the limit on both."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.store.engine import make_engine
from models.tables import Duty, Person, Unit
from tests.cli.runner import execbot

UNITS = """
[[units]]
key = "plant"
name = "{unit_name}"
kind = "plant"
"""
PEOPLE = """
[[people]]
key = "w1"
name = "{person_name}"
unit = "plant"
post = "{post}"
"""
DUTY = """
[[duties]]
key = "reading"
title = "{title}"
details = "{details}"
assignee = "w1"
nudge = "07:00"
due = "{due}"
{extra}
"""


def org(
    *,
    unit_name: str = "Plant",
    person_name: str = "Willy",
    post: str = "operator",
    title: str = "Read",
    details: str = "",
    due: str = "+1h",
    extra: str = "",
) -> str:
    return (
        UNITS.format(unit_name=unit_name)
        + PEOPLE.format(person_name=person_name, post=post)
        + DUTY.format(title=title, details=details, due=due, extra=extra)
    )


@pytest.fixture
def workdir(tmp_path: Path, db_url: str) -> Path:
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{db_url}"\n')
    return tmp_path


def stored(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return {
                table.__name__: session.exec(select(func.count()).select_from(table)).one()
                for table in (Unit, Person, Duty)
            }
    finally:
        engine.dispose()


def test_item17_long_toml_values_refused_on_both_backends(workdir: Path, db_url: str) -> None:
    (workdir / "org.toml").write_text(
        org(unit_name="U" * 5000, post="P" * 150, title="T" * 300, details="D" * 2001)
    )
    result = execbot(workdir, "org", "import", "org.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for line in (
        "org.toml: units[1], name: at most 200 characters, got 5000",
        "org.toml: people[1], post: at most 100 characters, got 150",
        "org.toml: duties[1], title: at most 200 characters, got 300",
        "org.toml: duties[1], details: at most 2000 characters, got 2001",
    ):
        assert line in result.stdout, result.stdout
    assert stored(db_url) == {"Unit": 0, "Person": 0, "Duty": 0}


def test_item17_long_csv_values_refused_on_both_backends(workdir: Path, db_url: str) -> None:
    (workdir / "org.toml").write_text(UNITS.format(unit_name="Plant"))
    assert execbot(workdir, "org", "import", "org.toml").returncode == 0
    (workdir / "people.csv").write_text(
        f"employee_id,full_name,department,position\nw1,{'N' * 5000},plant,operator\n"
        f"w2,Wanda,plant,{'P' * 101}\n"
    )
    result = execbot(workdir, "org", "import", "people.csv")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "people.csv: row 2, name: at most 200 characters, got 5000" in result.stdout
    assert "people.csv: row 3, post: at most 100 characters, got 101" in result.stdout
    assert stored(db_url) == {"Unit": 1, "Person": 0, "Duty": 0}


def test_item17_values_at_the_limit_are_stored_on_both_backends(workdir: Path, db_url: str) -> None:
    (workdir / "org.toml").write_text(
        org(
            unit_name="U" * 200,
            person_name="Ü" * 200,  # characters, not bytes
            post="P" * 100,
            title="T" * 200,
            details="D" * 2000,
            due="+7d",
        )
    )
    result = execbot(workdir, "org", "import", "org.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored(db_url) == {"Unit": 1, "Person": 1, "Duty": 1}


def test_item5_out_of_bounds_refused_with_file_row_and_field(workdir: Path, db_url: str) -> None:
    units = "".join(
        f'[[units]]\nkey = "u{i}"\nname = "U{i}"\n' + (f'parent = "u{i - 1}"\n' if i else "")
        for i in range(52)
    )  # u0 is level 1: u50 is level 51
    people = PEOPLE.format(person_name="Willy", post="operator").replace('"plant"', '"u0"')
    people += f'timezone = "Europe/{"x" * 300}"\n'
    duty = DUTY.format(title="Read", details="", due="+2950000d", extra='policy = "strcit"')
    other = DUTY.format(title="Walk", details="", due="+8d", extra="").replace(
        '"reading"', '"walk"'
    )
    (workdir / "org.toml").write_text(units + people + duty + other)
    result = execbot(workdir, "org", "import", "org.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for line in (
        "org.toml: people[1], timezone: at most 64 characters, got 307",
        "org.toml: duties[1], due: expected a time of day like '17:00', a delay like '+4h'",
        "(duration: at most 366d, got '2950000d')",
        "org.toml: duties[2], due: a delay of at most +7d, got '+8d'",
        "org.toml: unit u50, parent: the unit tree may be at most 50 levels deep, and this"
        " unit is level 51 (under u49 < u48 < u47 < ...)",
        "org.toml: duty reading, policy: unknown policy 'strcit' (expected one of standard",
    ):
        assert line in result.stdout, result.stdout
    assert "unit u51, parent" not in result.stdout  # only the first unit too deep is named
    assert stored(db_url) == {"Unit": 0, "Person": 0, "Duty": 0}


def test_item5_deeply_nested_toml_is_refused_not_a_traceback(workdir: Path) -> None:
    (workdir / "org.toml").write_text("units = " + "[" * 2000 + "]" * 2000 + "\n")
    result = execbot(workdir, "org", "import", "org.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "org.toml: file: not valid TOML: arrays or tables nested too deeply" in result.stdout
    assert "Traceback" not in result.stderr
