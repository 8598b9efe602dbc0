"""The leader's board: ``/team`` (their subtree today, per unit, with the open items and who
holds each) and ``/overdue`` (past due and owned by nobody). Deciding is pure in
``models.board``; this module reads and renders.

The database counts the subtree's occurrences (``bot.store.board.tallies``) and hands over only
the items shown (``bot.store.board.items``, as ``models.board`` picks them), so a board costs
what its subtree holds, never the whole plant's day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render import texts
from bot.render.messages import day_label, when_label
from bot.store import board as store
from bot.store import org
from bot.store.engine import session_scope
from models.board import (
    BoardItem,
    Pick,
    Tally,
    counts_by_unit,
    fit_board,
    open_list,
    open_picks,
    open_total,
    overdue_list,
    overdue_picks,
    overdue_total,
    unit_rows,
)
from models.occurrence import BOARD
from models.orgtree import OrgTree
from models.tables import Person

OPEN_SHOWN = 40  # items on /team's open list; the rest are counted ("… and N more")
OVERDUE_SHOWN = 60  # items on /overdue
_LIVE = [status for status, shown in BOARD.items() if shown in ("open", "late", "blocked")]


@dataclass(frozen=True, slots=True)
class _Scope:
    """Who is looking, over which units, on which day."""

    viewer: Person
    tree: OrgTree
    roots: list[int]
    units: list[int]  # every unit under the roots, in board order
    whole: bool  # the whole plant (an admin's): no unit left out
    day: date


@dataclass(frozen=True, slots=True)
class _Shown:
    items: list[BoardItem]
    names: dict[int, str]  # person id -> name, for the items' people and holders
    promised: dict[int, str]  # occurrence id -> promised time, for the "later" ones


def team(engine: Engine, settings: Settings, person_id: int, lang: str, now: datetime) -> str:
    with session_scope(engine) as session:
        scope = _scope(session, settings, person_id, now)
        if scope is None:
            return texts.render(lang, "board.not_leader")
        tallies = _tallies(session, scope, now)
        picks = open_picks(scope.tree, scope.roots, tallies, OPEN_SHOWN)
        shown = _read(session, settings, scope, picks, now)
        units = org.unit_names(session, scope.units)
    tree, roots = scope.tree, scope.roots
    own = counts_by_unit(tallies)
    rows = [
        (row.depth, texts.render(
            lang, "board.row", indent="  " * row.depth, unit=units.get(row.unit_id, "?"),
            done=row.total.done, blocked=row.total.blocked, late=row.total.late,
            excused=row.total.excused, absent=row.total.absent, no_reply=row.total.no_reply,
        ))
        for root in roots
        for row in unit_rows(tree, root, own)
    ]  # fmt: skip
    listed = open_list(tree, roots, shown.items)
    lines = [_item(lang, item, shown) for item in listed]
    more = open_total(tree, roots, tallies) - len(listed)
    header = texts.render(lang, "board.header", day=day_label(lang, scope.day))

    def frame(rows: list[str], units_left: int, items: list[str], items_left: int) -> list[str]:
        out = [header, *rows]
        if units_left:
            out.append(texts.render(lang, "board.more_units", count=units_left))
        out.append(texts.render(lang, "board.open_header"))
        out.extend(items)
        if items_left:
            out.append(texts.render(lang, "board.more_items", count=items_left))
        if not items and not items_left:
            out.append(texts.render(lang, "board.nothing_open"))
        return out

    return fit_board(rows, lines, more, frame)


def overdue(engine: Engine, settings: Settings, person_id: int, lang: str, now: datetime) -> str:
    with session_scope(engine) as session:
        scope = _scope(session, settings, person_id, now)
        if scope is None:
            return texts.render(lang, "board.not_leader")
        tallies = _tallies(session, scope, now)
        picks = overdue_picks(scope.tree, scope.roots, tallies, OVERDUE_SHOWN)
        shown = _read(session, settings, scope, picks, now)
    listed = overdue_list(scope.tree, scope.roots, shown.items)
    if not listed:
        return texts.render(lang, "board.overdue_empty")
    lines = [_item(lang, item, shown) for item in listed]
    more = overdue_total(scope.tree, scope.roots, tallies) - len(listed)
    header = texts.render(lang, "board.overdue_header")

    def frame(_rows: list[str], _units_left: int, items: list[str], items_left: int) -> list[str]:
        more_line = [texts.render(lang, "board.more_items", count=items_left)] if items_left else []
        return [header, *items, *more_line]

    return fit_board([], lines, more, frame)


def _scope(session: Session, settings: Settings, person_id: int, now: datetime) -> _Scope | None:
    """The viewer's top units and everything under them; None when there are none. An
    admin's tops are the tree's; a leader's or deputy's, the units they lead that no other
    unit they lead contains, in order of unit key. A leader's subtree is read alone, never
    the whole plant's tree."""
    viewer = org.person_by_id(session, person_id)
    assert viewer is not None
    admin = viewer.key in settings.access.admins
    if admin:
        tree = org.unit_tree(session)
        roots = [unit.id for unit in tree.units() if unit.parent_id is None]
    else:
        led = org.leadership_units(session, person_id)
        if not led:
            return None
        tree = org.units_under(session, led)  # a led unit inside another is no top here
        tops = [unit for unit in tree.units() if unit.parent_id is None]
        roots = [unit.id for unit in sorted(tops, key=lambda unit: unit.key)]
    if not roots:
        return None
    units = [unit for root in roots for unit in tree.subtree(root)]
    day = now.astimezone(ZoneInfo(settings.plant.timezone)).date()
    return _Scope(viewer, tree, roots, units, admin, day)


def _tallies(session: Session, scope: _Scope, now: datetime) -> list[Tally]:
    return [
        Tally(unit, BOARD[status], past, owned, count)
        for unit, status, past, owned, count in store.tallies(
            session, scope.day, None if scope.whole else scope.units, BOARD.keys(), _LIVE, now
        )
    ]


def _read(
    session: Session, settings: Settings, scope: _Scope, picks: Sequence[Pick], now: datetime
) -> _Shown:
    """The picked items, with the names of their people and holders and the promised times
    of the "later" ones (in the viewer's time zone)."""
    raw = {board: [s for s, b in BOARD.items() if b == board] for board in set(BOARD.values())}
    rows = [
        row
        for pick in picks
        for row in store.items(
            session, scope.day, pick.units, [s for b in pick.statuses for s in raw[b]], now,
            past_due=pick.past_due, unowned=pick.unowned, limit=pick.limit,
        )
    ]  # fmt: skip
    items = [
        BoardItem(
            occurrence_id=row.occurrence_id,
            person_id=row.person_id,
            unit_id=row.unit_id,
            status=BOARD[row.status],
            overdue=BOARD[row.status] in ("open", "late", "blocked")
            and (row.promised_at or row.due_at) < now,
            owner_id=row.owner_id,
            title=f"{row.number}. {row.title}",
        )
        for row in rows
    ]
    names = {row.person_id: row.person_name for row in rows}
    names |= org.person_names(session, sorted({i.owner_id for i in items if i.owner_id}))
    promised: dict[int, str] = {}
    zone: ZoneInfo | None = None  # the viewer's, read when a promised time is shown
    for row in rows:
        if BOARD[row.status] == "late" and row.promised_at is not None:
            if zone is None:
                viewer = scope.viewer
                tz = org.timezone_of(
                    session, settings.plant.timezone, viewer.timezone, viewer.unit_id
                )
                zone = ZoneInfo(tz)
            label = when_label(scope.viewer.language, row.promised_at, zone, now)
            promised[row.occurrence_id] = label
    return _Shown(items, names, promised)


def _item(lang: str, item: BoardItem, shown: _Shown) -> str:
    holder = (
        texts.render(lang, "board.held_by", name=shown.names.get(item.owner_id, "?"))
        if item.owner_id
        else texts.render(lang, "board.unowned")
    )
    time = shown.promised.get(item.occurrence_id, "")
    status = texts.render(lang, f"status.{item.status}", time=time)
    person = shown.names.get(item.person_id, "?")
    return texts.render(
        lang, "board.item", person=person, title=item.title, status=status, holder=holder
    )
