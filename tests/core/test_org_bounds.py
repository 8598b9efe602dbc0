"""Item 17: the bounds the import checks are the lengths the tables store (so SQLite and
PostgreSQL behave alike), and item 5: an org tree deeper than the limit is refused."""

from __future__ import annotations

from typing import Any

from models import org_spec as org
from models.org import parse_toml
from models.org_sync import MAX_DEPTH, CurrentOrg, check
from models.tables import Absence, Duty, Person, Unit


def lengths(*columns: tuple[Any, str]) -> set[int]:
    return {int(table.__table__.c[name].type.length) for table, name in columns}


def test_item17_import_bounds_are_the_stored_column_lengths() -> None:
    names = lengths((Unit, "name"), (Person, "name"), (Duty, "title"))
    assert names == {org.NAME_MAX}
    assert lengths((Person, "post"), (Duty, "post")) == {org.POST_MAX}
    assert lengths((Duty, "details")) == {org.DETAILS_MAX}
    assert lengths((Person, "crew")) == {org.CREW_NAME_MAX}
    assert lengths((Person, "timezone"), (Unit, "timezone")) == {org.TIMEZONE_MAX}
    assert lengths((Absence, "note")) == {org.ABSENCE_NOTE_MAX}


def tree(levels: int) -> dict[str, object]:
    units = [{"key": "u0", "name": "Plant"}]
    units += [{"key": f"u{i}", "name": f"U{i}", "parent": f"u{i - 1}"} for i in range(1, levels)]
    return {"units": units}


def test_item5_a_tree_of_the_limit_is_accepted_one_level_more_is_refused() -> None:
    assert check(parse_toml(tree(MAX_DEPTH), "org.toml"), CurrentOrg(), "org.toml") == []
    problems = check(parse_toml(tree(1100), "org.toml"), CurrentOrg(), "org.toml")
    assert [str(p) for p in problems] == [
        f"org.toml: unit u{MAX_DEPTH}, parent: the unit tree may be at most {MAX_DEPTH} levels"
        f" deep, and this unit is level {MAX_DEPTH + 1} (under u{MAX_DEPTH - 1} <"
        f" u{MAX_DEPTH - 2} < u{MAX_DEPTH - 3} < ...)"
    ]
