"""``execbot report``: the supervision figures (``models.figures``) of a period, one row per
unit (its whole subtree) and one per person, as a CSV file or an XLSX workbook.

The figures are counted by the database (``bot.store.figures``); only the units and the
people (id, key, name, unit) are read into Python, to place each row in the tree. A unit's
``level`` is its depth in the whole tree (the plant is 0) and ``parent`` its parent's key; a
person's ``level`` and ``parent`` are those of the unit they are in now and its key.

Every input is checked before anything is counted, and the file is written beside its target
under a temporary name, then renamed: a failure never leaves a partial file, nor any file.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import fail, ready_engine, settings_of
from models.calendar import parse_date
from models.figures import FIELDS, ZERO, Figures

FORMATS = ("csv", "xlsx")
# The columns of the CSV; the XLSX sheets have all but ``kind`` (the sheet tells it).
COLUMNS: tuple[str, ...] = ("kind", "key", "name", "level", "parent", *FIELDS, "rate")
PEOPLE_SHEET = "People"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report: a unit (over its subtree) or a person."""

    kind: str  # unit | person
    key: str
    name: str
    level: int  # the unit's depth (plant 0); a person's: that of their unit
    parent: str  # the parent unit's key ("" for the top); a person's: their unit's key
    unit_kind: str  # the unit's kind in the org (plant, workshop, team, unit); "" for a person
    figures: Figures

    def values(self) -> list[Any]:
        """The row's values in ``COLUMNS`` order; the rate a fraction (None: nothing counted)."""
        counts = [getattr(self.figures, name) for name in FIELDS]
        return [self.kind, self.key, self.name, self.level, self.parent, *counts, self.figures.rate]


class ReportError(Exception):
    """Input the report cannot be made from (an unknown unit)."""


class Progress:
    """One line to stderr per stage, with the seconds since the start; nothing when quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            typer.echo(f"report: {time.monotonic() - self.start:6.2f} s  {message}", err=True)


def report(
    ctx: typer.Context,
    first: Annotated[
        str, typer.Option("--from", metavar="DATE", help="First plant day, e.g. 2026-11-01.")
    ],
    last: Annotated[str, typer.Option("--to", metavar="DATE", help="Last plant day (included).")],
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="The file to write.")],
    unit: Annotated[
        str | None,
        typer.Option("--unit", metavar="KEY", help="Only this unit's subtree (default: all)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="FORMAT", help="csv or xlsx (default: --out's extension)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Write every unit's and person's supervision figures for the days --from to --to."""
    from bot.runtime import utc_now
    from bot.store.engine import session_scope

    start, end = period(first, last)
    target = writable_target(out)
    kind = format_of(fmt, target)
    settings = settings_of(ctx)
    engine = ready_engine(settings)
    progress = Progress(quiet)
    with session_scope(engine) as session:
        try:
            rows = collect(session, start, end, utc_now(), unit, progress)
        except ReportError as exc:
            fail(str(exc))
    progress(f"writing {target}")
    try:
        write_atomically(target, rows, WRITERS[kind])
    except OSError as exc:
        fail(f"--out: cannot write {target}: {exc.strerror or exc}")
    units = sum(1 for row in rows if row.kind == "unit")
    progress(f"wrote {target}: {units} units, {len(rows) - units} people")


# --- the input -----------------------------------------------------------------------------


def period(first: str, last: str) -> tuple[date, date]:
    try:
        start, end = parse_date(first, "--from"), parse_date(last, "--to")
    except ValueError as exc:
        fail(str(exc))
    if start > end:
        fail(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    return start, end


def format_of(fmt: str | None, out: Path) -> str:
    """csv or xlsx: --format, else the extension of --out."""
    if fmt is None:
        guessed = out.suffix.lower().lstrip(".")
        if guessed not in FORMATS:
            fail(f"--format: give csv or xlsx (the extension of {out.name!r} tells neither)")
        return guessed
    if fmt.lower() not in FORMATS:
        fail(f"--format: expected csv or xlsx, got {fmt!r}")
    return fmt.lower()


def writable_target(out: Path) -> Path:
    """--out, absolute, once its directory is known to exist and take new files."""
    target = Path(os.path.abspath(out.expanduser()))
    folder = target.parent
    if target.is_dir():
        fail(f"--out: {target} is a directory")
    if not folder.is_dir():
        fail(f"--out: no such directory {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"--out: cannot write in {folder} (permission denied)")
    return target


# --- the rows ------------------------------------------------------------------------------


def collect(
    session: Any,
    start: date,
    end: date,
    now: datetime,
    unit_key: str | None,
    progress: Callable[[str], None],
) -> list[Row]:
    """The units in tree order (each before its children, siblings by key), then the
    people by their unit's place and key. ReportError for an unknown ``unit_key``."""
    from sqlalchemy import select
    from sqlmodel import col

    from bot.store.figures import person_figures, unit_figures
    from models.tables import Person, Unit

    units = {
        uid: (key, name, kind, parent_id)
        for uid, key, name, kind, parent_id in session.execute(
            select(col(Unit.id), col(Unit.key), col(Unit.name), col(Unit.kind), col(Unit.parent_id))
        ).all()
    }
    children: dict[int | None, list[int]] = {}
    for uid, (_, _, _, parent_id) in sorted(units.items(), key=lambda item: item[1][0]):
        children.setdefault(parent_id if parent_id in units else None, []).append(uid)
    depth: dict[int, int] = {}
    order: list[int] = []

    def walk(uid: int, level: int) -> None:  # iterative would do; trees are shallow
        depth[uid] = level
        order.append(uid)
        for child in children.get(uid, []):
            walk(child, level + 1)

    for top in children.get(None, []):
        walk(top, 0)
    if unit_key is not None:
        by_key = {key: uid for uid, (key, *_) in units.items()}
        if unit_key not in by_key:
            raise ReportError(f"--unit: no unit with key {unit_key!r}")
        root = by_key[unit_key]
        inside: set[int] = set()
        stack = [root]
        while stack:
            uid = stack.pop()
            inside.add(uid)
            stack.extend(children.get(uid, []))
        order = [uid for uid in order if uid in inside]
    place = {uid: index for index, uid in enumerate(order)}

    progress(f"counting {len(order)} units")
    unit_counts = unit_figures(session, start, end, now, order)
    people = [
        (pid, key, name, unit_id)
        for pid, key, name, unit_id in session.execute(
            select(col(Person.id), col(Person.key), col(Person.name), col(Person.unit_id))
        ).all()
        if unit_id in place
    ]
    people.sort(key=lambda person: (place[person[3]], person[1]))
    progress(f"counting {len(people)} people")
    # everyone with an occurrence, in one pass (no list of ids: a plant's would pass SQLite's
    # limit on bound parameters); the others had nothing due
    person_counts = person_figures(session, start, end, now)

    def parent_key(uid: int) -> str:
        parent_id = units[uid][3]
        return units[parent_id][0] if parent_id in units else ""

    rows = [
        Row("unit", units[uid][0], units[uid][1], depth[uid], parent_key(uid), units[uid][2],
            unit_counts[uid])
        for uid in order
    ]  # fmt: skip
    rows += [
        Row(
            "person", key, name, depth[unit_id], units[unit_id][0], "", person_counts.get(pid, ZERO)
        )
        for pid, key, name, unit_id in people
    ]
    return rows


# --- the files -----------------------------------------------------------------------------


Writer = Callable[[list[Row], Path], None]


def write_atomically(target: Path, rows: list[Row], writer: Writer) -> None:
    """``writer`` into a temporary file beside ``target``, renamed to it once complete."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        writer(rows, temporary)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_csv(rows: list[Row], path: Path) -> None:
    """One file: a header, then a row per unit and per person; the rate a fraction with four
    decimals (empty when nothing was counted)."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(COLUMNS)
        for row in rows:
            *counts, rate = row.values()
            out.writerow([*counts, "" if rate is None else f"{rate:.4f}"])


def sheet_names(rows: Iterable[Row]) -> dict[int, str]:
    """A sheet name per level of the tree: the units' kind when every unit of the level has
    the same one ("Plant", "Workshops", "Teams"), else "Level N"."""
    kinds: dict[int, set[str]] = {}
    counts: dict[int, int] = {}
    for row in rows:
        if row.kind == "unit":
            kinds.setdefault(row.level, set()).add(row.unit_kind)
            counts[row.level] = counts.get(row.level, 0) + 1
    names: dict[int, str] = {}
    taken = {PEOPLE_SHEET.lower()}
    for level in sorted(kinds):
        name = f"Level {level}"
        (kind, *others) = sorted(kinds[level])
        if not others and kind and kind != "unit":
            title = kind.strip().capitalize() + ("s" if counts[level] > 1 else "")
            clean = "".join(c for c in title if c not in "[]:*?/\\")[:31]
            if clean and clean.lower() not in taken:
                name = clean
        taken.add(name.lower())
        names[level] = name
    return names


def write_xlsx(rows: list[Row], path: Path) -> None:
    """A sheet per level of the tree, then "People": a bold, frozen header row; the rate as
    a percentage; each column as wide as its longest value. Written row by row (openpyxl's
    write-only mode: memory and time grow with the rows, not their square)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header = COLUMNS[1:]
    names = sheet_names(rows)
    groups: dict[str, list[list[Any]]] = {names[level]: [] for level in sorted(names)}
    groups[PEOPLE_SHEET] = []
    for row in rows:
        groups[PEOPLE_SHEET if row.kind == "person" else names[row.level]].append(row.values()[1:])
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, table in groups.items():
        sheet = book.create_sheet(name)
        for index, title in enumerate(header):
            width = max([len(title), *(len(shown(values[index])) for values in table)])
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, 40)
        sheet.freeze_panes = "A2"
        titles = [WriteOnlyCell(sheet, value=title) for title in header]
        for cell in titles:
            cell.font = bold
        sheet.append(titles)
        for *values, rate in table:
            cell = WriteOnlyCell(sheet, value=rate)
            cell.number_format = "0.0%"
            sheet.append([*values, cell])
    book.save(path)


def shown(value: object) -> str:
    """How a cell reads in the sheet (a rate as a percentage), for the column widths."""
    if value is None:
        return ""
    return f"{value:.1%}" if isinstance(value, float) else str(value)


WRITERS: dict[str, Writer] = {"csv": write_csv, "xlsx": write_xlsx}
