"""``execbot away`` as an admin runs it (in the test's process): a real config file, a real
SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.store import audit
from bot.store.engine import make_engine
from tests.cli.runner import execbot
from tests.conftest import EXAMPLE_ORG


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text('[database]\nurl = "sqlite:///bot.db"\n')
    imported = execbot(tmp_path, "org", "import", str(EXAMPLE_ORG))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return tmp_path


def test_record_list_and_cancel(plant: Path) -> None:
    added = execbot(
        plant, "away", "a.weber", "2026-12-01", "2026-12-03", "--kind", "sick", "--note", "flu"
    )
    assert added.returncode == 0, added.stderr
    match = re.fullmatch(
        r"recorded absence (\d+): a\.weber \(Anna Weber\) away "
        r"2026-12-01 to 2026-12-03 \(3 days, sick\): flu\n",
        added.stdout,
    )
    assert match, added.stdout
    absence_id = match[1]
    one_day = execbot(plant, "away", "a.weber", "2027-01-04", "2027-01-04")
    assert "away 2027-01-04 to 2027-01-04 (1 day, leave)\n" in one_day.stdout

    listed = execbot(plant, "away", "a.weber", "--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "a.weber (Anna Weber): 2 absences"
    assert lines[1] == f"  {absence_id}\tcli\t2026-12-01 to 2026-12-03 (3 days, sick): flu"

    cancelled = execbot(plant, "away", "a.weber", "--cancel", absence_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == (
        f"cancelled absence {absence_id} of a.weber: 2026-12-01 to 2026-12-03 (3 days, sick): flu\n"
    )
    assert "1 absence" in execbot(plant, "away", "a.weber", "--list").stdout

    engine = make_engine(f"sqlite:///{plant / 'bot.db'}")
    with Session(engine) as session:
        kinds = [event.kind for event in audit.events(session)]
    engine.dispose()
    assert kinds == ["org.imported", "absence.added", "absence.added", "absence.cancelled"]


def test_org_file_absences_are_listed_but_not_cancelled_here(plant: Path) -> None:
    listed = execbot(plant, "away", "d.richter", "--list")
    line = listed.stdout.splitlines()[1]
    assert line.endswith("\torg\t2026-12-21 to 2026-12-31 (11 days, leave): Christmas leave")
    refused = execbot(plant, "away", "d.richter", "--cancel", line.split("\t")[0].strip())
    assert refused.returncode == 1
    assert "comes from the org file: remove it there and import again" in refused.stderr


MISTAKES = [
    (("ghost", "2026-12-01", "2026-12-02"), 1, "execbot: ghost: no such person"),
    (
        ("a.weber", "2026-12-03", "2026-12-01"),
        1,
        "execbot: absence of 'a.weber': ends 2026-12-01 before it starts 2026-12-03",
    ),
    (
        ("a.weber", "1.12.2026", "2026-12-03"),
        2,
        "execbot: FROM: expected a date like '2026-12-01', got '1.12.2026'",
    ),
    (("a.weber", "2026-12-01"), 2, "execbot: give FROM and TO"),
    (("a.weber", "2026-12-01", "--list"), 2, "execbot: --list and --cancel take no dates"),
    (("a.weber", "--list", "--cancel", "1"), 2, "execbot: use either --list or --cancel"),
    (("a.weber", "--cancel", "999"), 1, "execbot: a.weber has no absence 999 (see --list)"),
    (("a.weber", "2026-12-01", "2026-12-02", "--kind", "holiday"), 2, "'holiday' is not one"),
]


def test_mistakes_are_refused_and_nothing_is_recorded(plant: Path) -> None:
    for args, code, message in MISTAKES:
        result = execbot(plant, "away", *args)
        assert result.returncode == code, (args, result.stdout + result.stderr)
        assert message in result.stderr, args
        assert "Traceback" not in result.stderr
    assert "0 absences" in execbot(plant, "away", "a.weber", "--list").stdout
