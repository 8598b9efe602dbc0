"""The leader's board: today's occurrences counted per unit, and what is still open.

Rules:
- ``team_board`` covers the leader's unit and everything under it, depth-first (children in
  order of key), each unit with its depth (0 for the leader's unit);
- each row counts done, blocked, late, excused, absent and no reply ("open") twice: ``own``
  for the unit's own people, ``total`` for the unit and everything under it;
- the open list holds blocked items, then late ones, then open ones past due, each group in
  board order of units then occurrence id, with ``owner_id`` saying who took each (None:
  nobody);
- ``overdue_items`` (for /overdue): items past due, not finished and taken by nobody;
- occurrences of units outside the subtree are left out.

At scale the database counts and the board reads only what it shows: ``Tally`` rows (one per
unit, status, past due or not, taken or not) give the rows (``unit_rows``) and the length of
each list (``open_total``, ``overdue_total``); ``open_picks`` and ``overdue_picks`` say which
few items to read so that they are exactly the first ``limit`` of the list, in the order
``open_list`` and ``overdue_list`` put them. Several top units (a leader of two separate
units) give their boards one after the other.

``fit_board`` keeps the message within Telegram's 4,096 characters: when everything does not
fit, it leaves out the deepest unit rows first (saying how many), then the last items (saying
how many more there are), and cuts only as a last resort.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from models.orgtree import OrgTree
from models.text_limits import TEXT_LIMIT, cut

BoardStatus = Literal["done", "blocked", "late", "excused", "absent", "open"]
BOARD_STATUSES: tuple[BoardStatus, ...] = ("done", "blocked", "late", "excused", "absent", "open")
_OPEN_ORDER = {"blocked": 0, "late": 1, "open": 2}


@dataclass(frozen=True, slots=True)
class BoardItem:
    occurrence_id: int
    person_id: int
    unit_id: int
    status: BoardStatus
    overdue: bool  # past its due (or promised) instant and not finished
    owner_id: int | None  # who took it ("I'll handle it"), if anybody
    title: str

    def __post_init__(self) -> None:
        if self.status not in BOARD_STATUSES:
            expected = ", ".join(BOARD_STATUSES)
            raise ValueError(f"status: expected one of {expected}, got {self.status!r}")


@dataclass(frozen=True, slots=True)
class Counts:
    done: int = 0
    blocked: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0
    no_reply: int = 0  # status "open"

    @property
    def total(self) -> int:
        return self.done + self.blocked + self.late + self.excused + self.absent + self.no_reply

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            self.done + other.done,
            self.blocked + other.blocked,
            self.late + other.late,
            self.excused + other.excused,
            self.absent + other.absent,
            self.no_reply + other.no_reply,
        )


@dataclass(frozen=True, slots=True)
class UnitRow:
    unit_id: int
    depth: int
    own: Counts
    total: Counts  # the unit and everything under it


@dataclass(frozen=True, slots=True)
class Board:
    rows: tuple[UnitRow, ...]
    open_items: tuple[BoardItem, ...]


def team_board(tree: OrgTree, unit_id: int, items: Iterable[BoardItem]) -> Board:
    """The board of ``unit_id`` and everything under it."""
    walk = tree.walk(unit_id)
    position = {unit: index for index, (unit, _) in enumerate(walk)}
    mine = sorted(
        (item for item in items if item.unit_id in position),
        key=lambda item: (position[item.unit_id], item.occurrence_id),
    )
    own: dict[int, Counts] = {}
    for item in mine:
        own[item.unit_id] = own.get(item.unit_id, Counts()) + _one(item.status)
    open_items = sorted(
        (item for item in mine if _on_open_list(item.status, item.overdue)),
        key=lambda item: _OPEN_ORDER[item.status],
    )
    return Board(unit_rows(tree, unit_id, own), tuple(open_items))


def unit_rows(tree: OrgTree, unit_id: int, own: Mapping[int, Counts]) -> tuple[UnitRow, ...]:
    """The rows of ``unit_id`` and everything under it, from each unit's own counts (a unit
    missing from ``own`` has none), totals rolled up the tree."""
    walk = tree.walk(unit_id)
    mine = {unit: own.get(unit, Counts()) for unit, _ in walk}
    total = dict(mine)
    for unit, _ in reversed(walk[1:]):  # children before parents; the top has no parent here
        parent = tree.unit(unit).parent_id
        assert parent is not None  # below the board's top unit
        total[parent] += total[unit]
    return tuple(UnitRow(unit, depth, mine[unit], total[unit]) for unit, depth in walk)


def overdue_items(tree: OrgTree, unit_id: int, items: Iterable[BoardItem]) -> list[BoardItem]:
    """Items under ``unit_id`` past due, not finished and taken by nobody, in board order."""
    position = {unit: index for index, unit in enumerate(tree.subtree(unit_id))}
    found = (
        item
        for item in items
        if item.unit_id in position
        and _on_overdue_list(item.status, item.overdue, item.owner_id is not None)
    )
    return sorted(found, key=lambda item: (position[item.unit_id], item.occurrence_id))


# --- at scale: counted by the database, only the items shown read ---------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    """How many of today's occurrences of one unit's people share a status, whether their due
    (or promised) instant has passed and whether somebody took them. The last two matter
    only for open, late and blocked items past due; the database may leave them false for
    the others (fewer rows)."""

    unit_id: int
    status: BoardStatus
    past_due: bool
    owned: bool
    count: int

    @property
    def overdue(self) -> bool:
        """As ``BoardItem.overdue``: past due and not finished."""
        return self.past_due and self.status in _OPEN_ORDER


@dataclass(frozen=True, slots=True)
class Pick:
    """Items to read: today's occurrences of the people of ``units`` with one of ``statuses``,
    past due only if ``past_due``, taken by nobody only if ``unowned``; the first ``limit`` in
    board order (``units`` in the order given, then occurrence id)."""

    statuses: tuple[BoardStatus, ...]
    past_due: bool
    unowned: bool
    units: tuple[int, ...]
    limit: int


# The open list's groups, in their order: (statuses, past due only).
_OPEN_GROUPS: tuple[tuple[BoardStatus, bool], ...] = (
    ("blocked", False),
    ("late", False),
    ("open", True),
)
_LIVE: tuple[BoardStatus, ...] = ("blocked", "late", "open")
_PLACE = {status: index for index, status in enumerate(BOARD_STATUSES)}  # Counts' field order
# One list's group to pick from: statuses, past due only, unowned only, items per unit.
_Group = tuple[tuple[BoardStatus, ...], bool, bool, dict[int, int]]


def counts_by_unit(tallies: Iterable[Tally]) -> dict[int, Counts]:
    """Each unit's own counts."""
    sums: dict[int, list[int]] = {}
    for tally in tallies:
        found = sums.setdefault(tally.unit_id, [0] * len(BOARD_STATUSES))
        found[_PLACE[tally.status]] += tally.count
    return {unit: Counts(*found) for unit, found in sums.items()}


def open_total(tree: OrgTree, roots: Sequence[int], tallies: Iterable[Tally]) -> int:
    """How many items the open lists of ``roots`` hold together."""
    units = _units_of(tree, roots)
    return sum(
        t.count for t in tallies if t.unit_id in units and _on_open_list(t.status, t.overdue)
    )


def overdue_total(tree: OrgTree, roots: Sequence[int], tallies: Iterable[Tally]) -> int:
    """How many items the overdue lists of ``roots`` hold together."""
    units = _units_of(tree, roots)
    return sum(
        t.count
        for t in tallies
        if t.unit_id in units and _on_overdue_list(t.status, t.overdue, t.owned)
    )


def open_picks(
    tree: OrgTree, roots: Sequence[int], tallies: Iterable[Tally], limit: int
) -> list[Pick]:
    """What to read for the first ``limit`` items of the open lists of ``roots`` (one after
    the other): per top unit, blocked, late, then open past due, each through the units in
    board order, stopping at ``limit``."""
    groups: list[_Group] = [((status,), past_due, False, {}) for status, past_due in _OPEN_GROUPS]
    for tally in tallies:
        for (status,), past_due, _, per_unit in groups:
            if tally.status == status and (tally.overdue or not past_due):
                per_unit[tally.unit_id] = per_unit.get(tally.unit_id, 0) + tally.count
    return _picks(tree, roots, groups, limit)


def overdue_picks(
    tree: OrgTree, roots: Sequence[int], tallies: Iterable[Tally], limit: int
) -> list[Pick]:
    """What to read for the first ``limit`` items of the overdue lists of ``roots``."""
    per_unit: dict[int, int] = {}
    for t in tallies:
        if _on_overdue_list(t.status, t.overdue, t.owned):
            per_unit[t.unit_id] = per_unit.get(t.unit_id, 0) + t.count
    return _picks(tree, roots, [(_LIVE, True, True, per_unit)], limit)


def open_list(tree: OrgTree, roots: Sequence[int], items: Iterable[BoardItem]) -> list[BoardItem]:
    """The open lists of ``roots``, one after the other (as ``team_board`` orders them)."""
    items = list(items)
    return [item for root in roots for item in team_board(tree, root, items).open_items]


def overdue_list(
    tree: OrgTree, roots: Sequence[int], items: Iterable[BoardItem]
) -> list[BoardItem]:
    """The overdue lists of ``roots``, one after the other."""
    items = list(items)
    return [item for root in roots for item in overdue_items(tree, root, items)]


def _picks(tree: OrgTree, roots: Sequence[int], groups: list[_Group], limit: int) -> list[Pick]:
    picks: list[Pick] = []
    left = limit
    for root in roots:
        walk = tree.subtree(root)
        for statuses, past_due, unowned, per_unit in groups:
            units: list[int] = []
            take = 0
            for unit in walk:
                if left - take <= 0:
                    break
                found = per_unit.get(unit, 0)
                if found:
                    units.append(unit)
                    take += min(found, left - take)
            if units:
                picks.append(Pick(statuses, past_due, unowned, tuple(units), take))
                left -= take
    return picks


def _units_of(tree: OrgTree, roots: Sequence[int]) -> set[int]:
    return {unit for root in roots for unit in tree.subtree(root)}


def fit_board(
    rows: Sequence[tuple[int, str]],
    items: Sequence[str],
    more: int,
    frame: Callable[[list[str], int, list[str], int], list[str]],
    limit: int = TEXT_LIMIT,
) -> str:
    """The message, at most ``limit`` characters. ``rows`` are (depth, line) in board order,
    ``items`` the item lines and ``more`` how many items are left out already;
    ``frame(row_lines, units_left_out, item_lines, items_left_out)`` gives the message's
    lines. Everything if it fits; else the rows down to the deepest level that still lets
    the message fit, then fewer items; the text is cut only if even that is too long."""

    def text(depth: int, shown: int) -> str:
        kept = [line for d, line in rows if d <= depth]
        return "\n".join(frame(kept, len(rows) - len(kept), list(items[:shown]),
                               more + len(items) - shown))  # fmt: skip

    deepest = max((d for d, _ in rows), default=0)
    for depth in range(deepest, -1, -1):
        whole = text(depth, len(items))
        if len(whole) <= limit:
            return whole
    for shown in range(len(items) - 1, -1, -1):
        fewer = text(0, shown)
        if len(fewer) <= limit:
            return fewer
    return cut(text(0, 0), limit)


def _on_open_list(status: BoardStatus, overdue: bool) -> bool:
    return status in ("blocked", "late") or (status == "open" and overdue)


def _on_overdue_list(status: BoardStatus, overdue: bool, owned: bool) -> bool:
    return status in _OPEN_ORDER and overdue and not owned


def _one(status: BoardStatus) -> Counts:
    return Counts(**{"no_reply" if status == "open" else status: 1})
