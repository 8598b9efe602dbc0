"""``execbot report`` as an admin runs it (in the test's process): a real config file, a
SQLite file holding the two weeks of tests/services/test_figures.py (a three-level plant
with absences, excuses, promises, blocks of each side, a DST change and a night shift).
The file's figures must be those ``bot.store.figures`` counts and those worked out by hand
there."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli.report import COLUMNS, Row, write_atomically, write_csv
from bot.store.engine import make_engine
from bot.store.figures import person_figures, unit_figures
from models.figures import FIELDS, Figures
from models.tables import Unit
from tests.cli.runner import execbot
from tests.services.test_figures import END, PEOPLE, START, UNITS, Plant, two_weeks

PERIOD = ("--from", START.isoformat(), "--to", END.isoformat())
TREE = {  # unit: (level, parent)
    "plant": (0, ""),
    "ws-a": (1, "plant"),
    "team-a1": (2, "ws-a"),
    "team-a2": (2, "ws-a"),
    "ws-b": (1, "plant"),
    "team-b1": (2, "ws-b"),
}
HOME = {"pm": "plant", "head-a": "ws-a", "lead-a1": "team-a1", "anna": "team-a1",
        "arno": "team-a1", "lead-a2": "team-a2", "bert": "team-a2", "head-b": "ws-b",
        "lead-b1": "team-b1", "carla": "team-b1", "cem": "team-b1"}  # fmt: skip


class Stored:
    def __init__(self, folder: Path, plant: Plant, engine: Engine) -> None:
        self.folder, self.plant, self.engine = folder, plant, engine

    def counted(self) -> tuple[dict[str, Figures], dict[str, Figures]]:
        """What bot.store.figures gives now: per unit key, per person key."""
        now = datetime.now(UTC)
        p = self.plant
        with Session(self.engine) as session:
            units = unit_figures(session, START, END, now)
            people = person_figures(session, START, END, now, list(p.person.values()))
        return (
            {key: units[uid] for key, uid in p.unit.items()},
            {key: people[pid] for key, pid in p.person.items()},
        )


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[Stored]:
    (tmp_path / "config.toml").write_text('[database]\nurl = "sqlite:///bot.db"\n')
    upgraded = execbot(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    plant = two_weeks()
    plant.store(engine)
    yield Stored(tmp_path, plant, engine)
    engine.dispose()


def figures_of(values: list[str]) -> Figures:
    return Figures(*(int(value) for value in values))


def read_csv(path: Path) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    with path.open(newline="", encoding="utf-8") as stream:
        header, *rows = list(csv.reader(stream))
    return header, {(row[0], row[1]): row for row in rows}


def test_the_csv_holds_the_figures_the_database_counts(stored: Stored) -> None:
    ran = execbot(stored.folder, "report", *PERIOD, "--format", "csv", "--out", "r.csv")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ""
    header, rows = read_csv(stored.folder / "r.csv")
    assert tuple(header) == COLUMNS
    units, people = stored.counted()
    assert units == UNITS  # the database agrees with the hand-worked numbers
    assert people == PEOPLE
    assert len(rows) == len(units) + len(people)
    figures = slice(5, 5 + len(FIELDS))
    for key, expected in units.items():
        row = rows["unit", key]
        assert row[2] == key  # the name (the builder names units by their key)
        assert (int(row[3]), row[4]) == TREE[key]
        assert figures_of(row[figures]) == expected, key
        assert row[-1] == ("" if expected.rate is None else f"{expected.rate:.4f}")
    for key, expected in people.items():
        row = rows["person", key]
        assert (int(row[3]), row[4]) == (TREE[HOME[key]][0], HOME[key])
        assert figures_of(row[figures]) == expected, key
    assert rows["unit", "plant"][-1] == "0.4211"  # 8 on time / (26 due - 3 excused - 4 absent)
    assert rows["person", "pm"][-1] == ""  # nothing due: no rate
    # units in tree order, then people by their unit's place
    order = [key for kind, key in rows if kind == "unit"]
    assert order == ["plant", "ws-a", "team-a1", "team-a2", "ws-b", "team-b1"]
    assert [key for kind, key in rows if kind == "person"][:3] == ["pm", "head-a", "anna"]
    # progress: a line per stage on stderr, with the seconds since the start
    lines = ran.stderr.splitlines()
    assert [line.split(" s  ", 1)[1] for line in lines] == [
        "counting 6 units",
        "counting 11 people",
        f"writing {stored.folder / 'r.csv'}",
        f"wrote {stored.folder / 'r.csv'}: 6 units, 11 people",
    ]
    assert all(line.startswith("report: ") for line in lines)
    assert not [name for name in os.listdir(stored.folder) if name.endswith(".part")]


def test_one_unit_s_subtree_and_quiet(stored: Stored) -> None:
    ran = execbot(stored.folder, "report", *PERIOD, "--unit", "ws-a", "--out", "a.csv", "-q")
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    _, rows = read_csv(stored.folder / "a.csv")
    assert [key for kind, key in rows if kind == "unit"] == ["ws-a", "team-a1", "team-a2"]
    assert sorted(key for kind, key in rows if kind == "person") == sorted(
        ["head-a", "lead-a1", "anna", "arno", "lead-a2", "bert"]
    )
    assert rows["unit", "ws-a"][3:5] == ["1", "plant"]  # its level in the whole tree
    assert figures_of(rows["unit", "ws-a"][5 : 5 + len(FIELDS)]) == UNITS["ws-a"]


def sheet_rows(sheet: object) -> dict[str, tuple[object, ...]]:
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[attr-defined]
    return {str(row[0]): row for row in rows[1:]}


def same_rate(cell: object, rate: float | None) -> bool:
    """The cell holds the rate (to a double's last digits: XLSX stores 17 of them), or is
    empty when there is none."""
    return cell is None if rate is None else cell == pytest.approx(rate, rel=1e-12)


def test_the_workbook_has_a_sheet_per_level_and_the_people(stored: Stored) -> None:
    ran = execbot(stored.folder, "report", *PERIOD, "--format", "xlsx", "--out", "r.xlsx", "-q")
    assert ran.returncode == 0, ran.stderr
    units, people = stored.counted()
    book = openpyxl.load_workbook(stored.folder / "r.xlsx")
    # the builder's units are all of kind "unit": the sheets are named by depth
    assert book.sheetnames == ["Level 0", "Level 1", "Level 2", "People"]
    levels = {0: "Level 0", 1: "Level 1", 2: "Level 2"}
    header = COLUMNS[1:]
    counts = slice(4, 4 + len(FIELDS))
    for name in book.sheetnames:
        sheet = book[name]
        assert tuple(cell.value for cell in sheet[1]) == header
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        keys = [str(row[0]) for row in sheet.iter_rows(values_only=True)]
        assert sheet.column_dimensions["A"].width == max(map(len, keys)) + 2  # the longest key
        assert sheet.cell(row=2, column=len(header)).number_format == "0.0%"
    assert book["Level 0"].column_dimensions["Q"].width == len("42.1%") + 2  # the plant's rate
    for key, expected in units.items():
        row = sheet_rows(book[levels[TREE[key][0]]])[key]
        assert row[2:4] == (TREE[key][0], TREE[key][1] or None)
        assert Figures(*row[counts]) == expected, key  # type: ignore[arg-type]
        assert same_rate(row[-1], expected.rate), key
    for level, name in levels.items():
        assert sorted(sheet_rows(book[name])) == sorted(k for k, v in TREE.items() if v[0] == level)
    on_sheet = sheet_rows(book["People"])
    assert sorted(on_sheet) == sorted(people)
    for key, expected in people.items():
        assert Figures(*on_sheet[key][counts]) == expected, key  # type: ignore[arg-type]
        assert same_rate(on_sheet[key][-1], expected.rate), key
    assert on_sheet["anna"][-1] == pytest.approx(3 / 6)

    # units that say what they are name their sheets so
    kinds = {"plant": "plant", "ws-a": "workshop", "ws-b": "workshop"}
    with stored.engine.begin() as conn:
        for key, uid in stored.plant.unit.items():
            kind = kinds.get(key, "team")
            conn.execute(update(Unit).where(Unit.id == uid).values(kind=kind))  # type: ignore[arg-type]
    again = execbot(stored.folder, "report", *PERIOD, "--out", "k.xlsx", "-q")
    assert again.returncode == 0, again.stderr
    named = openpyxl.load_workbook(stored.folder / "k.xlsx")
    assert named.sheetnames == ["Plant", "Workshops", "Teams", "People"]
    assert Figures(*sheet_rows(named["Teams"])["team-b1"][counts]) == UNITS["team-b1"]  # type: ignore[arg-type]


MISTAKES = [
    (("--unit", "ghost", "--out", "r.csv"), "--unit: no unit with key 'ghost'"),
    (
        ("--from", "2026-11-01", "--to", "2026-10-19", "--out", "r.csv"),
        "--from 2026-11-01 is after --to 2026-10-19",
    ),
    (
        ("--from", "1.11.2026", "--to", "2026-11-01", "--out", "r.csv"),
        "--from: expected a date like '2026-12-01', got '1.11.2026'",
    ),
    (
        ("--from", "2026-10-19", "--to", "2026-02-30", "--out", "r.csv"),
        "--to: expected a date like '2026-12-01', got '2026-02-30'",
    ),
    (("--format", "pdf", "--out", "r.csv"), "--format: expected csv or xlsx, got 'pdf'"),
    (("--out", "r.pdf"), "--format: give csv or xlsx (the extension of 'r.pdf' tells neither)"),
    (("--out", "nowhere/r.csv"), "--out: no such directory {folder}/nowhere"),
    (("--out", "."), "--out: {folder} is a directory"),
]


@pytest.mark.parametrize(("args", "message"), MISTAKES)
def test_bad_input_stops_with_status_2_and_writes_nothing(
    stored: Stored, args: tuple[str, ...], message: str
) -> None:
    if "--from" not in args:
        args = (*PERIOD, *args)
    before = sorted(os.listdir(stored.folder))
    ran = execbot(stored.folder, "report", *args)
    assert ran.returncode == 2
    assert ran.stderr == f"execbot: {message.format(folder=stored.folder)}\n"
    assert sorted(os.listdir(stored.folder)) == before
    assert not (stored.folder / "r.csv").exists()


def test_a_folder_nobody_may_write_in(stored: Stored) -> None:
    # /proc takes no new file, not even root's: refused before or when the file is created
    ran = execbot(stored.folder, "report", *PERIOD, "--out", "/proc/execbot-report.csv", "-q")
    assert ran.returncode == 2
    assert ran.stderr.startswith("execbot: --out: cannot write ")
    assert len(ran.stderr.splitlines()) == 1
    assert not Path("/proc/execbot-report.csv").exists()
    if os.geteuid() == 0:
        return  # root writes in a folder whatever its mode says
    locked = stored.folder / "locked"
    locked.mkdir(mode=0o500)
    ran = execbot(stored.folder, "report", *PERIOD, "--out", "locked/r.csv")
    assert (ran.returncode, ran.stderr) == (
        2,
        f"execbot: --out: cannot write in {locked} (permission denied)\n",
    )
    assert os.listdir(locked) == []


def test_a_failure_while_writing_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    rows = [Row("unit", "plant", "Plant", 0, "", "plant", Figures(due=1, on_time=1))]

    def broken(items: list[Row], path: Path) -> None:
        write_csv(items, path)  # a whole file written under the temporary name...
        raise OSError(28, "No space left on device")  # ...then the disk fills

    with pytest.raises(OSError, match="No space"):
        write_atomically(target, rows, broken)
    assert os.listdir(tmp_path) == []
    target.write_text("the previous report\n")
    with pytest.raises(OSError):
        write_atomically(target, rows, broken)
    assert target.read_text() == "the previous report\n"  # kept as it was
    write_atomically(target, rows, write_csv)
    assert target.read_text().splitlines()[1].startswith("unit,plant,Plant,0,,1,1,")
    assert os.listdir(tmp_path) == ["r.csv"]
