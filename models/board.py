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
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from models.orgtree import OrgTree

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
    own: dict[int, Counts] = {unit: Counts() for unit, _ in walk}
    for item in mine:
        own[item.unit_id] += _one(item.status)
    total = dict(own)
    for unit, _ in reversed(walk[1:]):  # children before parents; the top has no parent here
        parent = tree.unit(unit).parent_id
        assert parent is not None  # below the board's top unit
        total[parent] += total[unit]
    rows = tuple(UnitRow(unit, depth, own[unit], total[unit]) for unit, depth in walk)
    open_items = sorted(
        (item for item in mine if item.status in ("blocked", "late") or _overdue_open(item)),
        key=lambda item: _OPEN_ORDER[item.status],
    )
    return Board(rows, tuple(open_items))


def overdue_items(tree: OrgTree, unit_id: int, items: Iterable[BoardItem]) -> list[BoardItem]:
    """Items under ``unit_id`` past due, not finished and taken by nobody, in board order."""
    position = {unit: index for index, unit in enumerate(tree.subtree(unit_id))}
    found = (
        item
        for item in items
        if item.unit_id in position
        and item.overdue
        and item.owner_id is None
        and item.status in _OPEN_ORDER
    )
    return sorted(found, key=lambda item: (position[item.unit_id], item.occurrence_id))


def _overdue_open(item: BoardItem) -> bool:
    return item.status == "open" and item.overdue


def _one(status: BoardStatus) -> Counts:
    return Counts(**{"no_reply" if status == "open" else status: 1})
