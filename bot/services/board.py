"""The leader's board: ``/team`` (their subtree today, per unit, with the open items and who
holds each) and ``/overdue`` (past due and owned by nobody). Pure counting in
``models.board``; this module gathers and renders."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.render import texts
from bot.render.messages import day_label, when_label
from bot.store import occurrences, org
from bot.store.engine import session_scope
from models.board import BoardItem, overdue_items, team_board
from models.occurrence import BOARD
from models.orgtree import OrgTree

Gathered = tuple[OrgTree, list[int], list[BoardItem], dict[int, str], str, dict[int, str]]


def _gather(
    engine: Engine, settings: Settings, person_id: int, now: datetime, promised: dict[int, str]
) -> Gathered:
    """The tree, the viewer's top units, today's items, person names, the day's label and unit
    names; ``promised`` gets the promised time of each "later" (the viewer's local time, with
    its date when not today)."""
    with session_scope(engine) as session:
        tree = org.tree(session)
        person = org.person_by_id(session, person_id)
        assert person is not None
        if person.key in settings.access.admins:
            roots = [unit.id for unit in tree.units() if unit.parent_id is None]
        else:
            led = tree.units_led_by(person_id)
            roots = [u for u in led if not any(u != o and u in tree.subtree(o) for o in led)]
        day = now.astimezone(ZoneInfo(settings.plant.timezone)).date()
        zone = ZoneInfo(
            org.timezones(session, settings.plant.timezone)(person.timezone, person.unit_id)
        )
        items, names = [], {}
        for occ, duty, who in occurrences.board_rows(session, day):
            status = BOARD.get(occ.status)  # None: not on the board (cancelled, reassigned)
            if status is None:
                continue
            deadline = occ.promised_at or occ.due_at
            if status == "late" and occ.promised_at is not None:
                promised[occ.id or 0] = when_label(person.language, occ.promised_at, zone, now)
            names[who.id or 0] = who.name
            items.append(
                BoardItem(
                    occurrence_id=occ.id or 0,
                    person_id=occ.person_id,
                    unit_id=who.unit_id,
                    status=status,
                    overdue=status in ("open", "late", "blocked") and deadline < now,
                    owner_id=occ.acked_by,
                    title=f"{occ.number}. {duty.title}",
                )
            )
        owners = org.people_by_ids(session, sorted({i.owner_id for i in items if i.owner_id}))
        names |= {pid: p.name for pid, p in owners.items()}
        unit_names = {u.id or 0: u.name for u in org.all_units(session)}
        return tree, roots, items, names, day_label(day), unit_names


def team(engine: Engine, settings: Settings, person_id: int, lang: str, now: datetime) -> str:
    promised: dict[int, str] = {}
    tree, roots, items, names, day, units = _gather(engine, settings, person_id, now, promised)
    if not roots:
        return texts.render(lang, "board.not_leader")
    lines = [texts.render(lang, "board.header", day=day)]
    open_items: list[BoardItem] = []
    for root in roots:
        board = team_board(tree, root, items)
        for row in board.rows:
            c = row.total
            lines.append(
                texts.render(
                    lang, "board.row", indent="  " * row.depth, unit=units.get(row.unit_id, "?"),
                    done=c.done, blocked=c.blocked, late=c.late, excused=c.excused,
                    absent=c.absent, no_reply=c.no_reply,
                )
            )  # fmt: skip
        open_items.extend(board.open_items)
    lines.append(texts.render(lang, "board.open_header"))
    lines.extend(_item(lang, item, names, promised) for item in open_items[:40])
    if not open_items:
        lines.append(texts.render(lang, "board.nothing_open"))
    return "\n".join(lines)[:4096]


def overdue(engine: Engine, settings: Settings, person_id: int, lang: str, now: datetime) -> str:
    promised: dict[int, str] = {}
    tree, roots, items, names, _, _ = _gather(engine, settings, person_id, now, promised)
    if not roots:
        return texts.render(lang, "board.not_leader")
    found = [item for root in roots for item in overdue_items(tree, root, items)]
    if not found:
        return texts.render(lang, "board.overdue_empty")
    lines = [texts.render(lang, "board.overdue_header")]
    lines.extend(_item(lang, item, names, promised) for item in found[:60])
    return "\n".join(lines)[:4096]


def _item(lang: str, item: BoardItem, names: dict[int, str], promised: dict[int, str]) -> str:
    holder = (
        texts.render(lang, "board.held_by", name=names.get(item.owner_id, "?"))
        if item.owner_id
        else texts.render(lang, "board.unowned")
    )
    status = texts.render(lang, f"status.{item.status}", time=promised.get(item.occurrence_id, ""))
    person = names.get(item.person_id, "?")
    return texts.render(
        lang, "board.item", person=person, title=item.title, status=status, holder=holder
    )
