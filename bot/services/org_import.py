"""``execbot org import``: read org files, check them, and write the changes in one transaction.

Gather (read the files, load the stored org), decide (``models.org_sync``), apply (write the
changes and one audit event). With any problem, or with ``dry_run``, nothing is written.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.render import texts
from bot.render.english import counted
from bot.store import audit, org_sync
from bot.store.engine import session_scope
from models.org import parse_people_csv, parse_toml
from models.org_spec import OrgProblem, OrgSpec
from models.org_sync import ChangePlan, check, plan


@dataclass(frozen=True, slots=True)
class ImportResult:
    problems: list[OrgProblem]
    plan: ChangePlan | None
    written: bool
    dry_run: bool = False

    def report(self) -> str:
        if self.problems:
            lines = [f"rejected: {counted(len(self.problems), 'problem')}, nothing was written"]
            return "\n".join([*lines, *(f"  {p}" for p in self.problems)])
        assert self.plan is not None
        details = [f"  {change.describe()}" for change in self.plan.changes]
        if self.dry_run:
            head = "dry run, nothing written"
        elif self.written:
            head = "imported"
        else:
            head = "already up to date, nothing to change"
        return "\n".join([f"{head}:", self.plan.summary(), *details])


def read_files(paths: list[Path], languages: Collection[str] | None = None) -> OrgSpec:
    spec = OrgSpec()
    for path in paths:
        spec.merge(read_file(path, languages))
    return spec


def read_file(path: Path, languages: Collection[str] | None = None) -> OrgSpec:
    """One org file or HR CSV; a person's language must be one of ``languages`` (default:
    the languages execbot has catalogues for)."""
    name = str(path)
    spoken = texts.languages() if languages is None else languages
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return _failed(name, "no such file")
    except (OSError, UnicodeDecodeError) as exc:
        return _failed(name, f"cannot be read as UTF-8 text: {exc}")
    if path.suffix.lower() == ".csv":
        try:
            rows = list(csv.reader(io.StringIO(raw, newline=""), strict=True))
        except csv.Error as exc:
            return _failed(name, f"not valid CSV: {exc}")
        if not rows:
            return _failed(name, "the file is empty; expected a header row")
        return parse_people_csv(rows[0], rows[1:], name, spoken)
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            return _failed(name, f"not valid TOML: {exc}")
        except RecursionError:  # tomllib reads nested arrays and tables recursively
            return _failed(name, "not valid TOML: arrays or tables nested too deeply")
        return parse_toml(data, name, spoken)
    return _failed(name, "expected a .toml org file or a .csv file of people")


def _failed(source: str, message: str) -> OrgSpec:
    return OrgSpec(problems=[OrgProblem(source, "file", "", message)])


def import_org(
    engine: Engine,
    paths: list[Path],
    now: datetime,
    *,
    dry_run: bool,
    policies: Collection[str] | None = None,
    default_language: str = texts.FALLBACK,
) -> ImportResult:
    """Import ``paths``; with ``policies`` (the config's policy names) a duty's ``policy``
    must name one of them. ``default_language`` (the config's ``[plant] language``) is the
    language of the people whose language neither the files, Telegram nor they chose
    (``models.org_sync.person_language``)."""
    spec = read_files(paths)
    sources = ", ".join(str(p) for p in paths)
    with session_scope(engine) as session:
        current = org_sync.load_current_org(session)
        problems = check(spec, current, sources, policies)
        if problems:
            return ImportResult(problems, None, written=False)
        changes = plan(spec, current, default_language)
        if dry_run or not changes.changes:
            return ImportResult([], changes, written=False, dry_run=dry_run)
        org_sync.apply_org_plan(session, changes, now)
        counts = {f"{kind}.{action}": n for (kind, action), n in changes.counts().items()}
        audit.record(
            session, "org.imported", now, subject=sources, data={"files": sources, **counts}
        )
    return ImportResult([], changes, written=True)
