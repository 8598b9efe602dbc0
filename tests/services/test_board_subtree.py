"""The board's subtree, filtered and counted by the database (SQLite and PostgreSQL): a leader
sees exactly the units they lead and everything below, never a sibling's; vacant units count
under the leader above them; a leader of nested units gets one board; a person moved to
another unit takes their day's items along.

Besides the named cases, random plants are compared, for every person and both views, with a
reference that reads the whole day as rows and filters the subtree in Python (the way the
board used to work, and what it must keep showing), plus "… and N more" where a list is
longer than the board shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.render import texts
from bot.render.messages import day_label, when_label
from bot.services import board
from bot.store import org
from models.board import BoardItem, overdue_items, team_board
from models.occurrence import BOARD
from models.tables import Duty, Leadership, Occurrence, Person, Unit

DAY = date(2026, 11, 17)
NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
STAMP = {"created_at": NOW, "updated_at": NOW}
RAW_STATUSES = ["open", "done", "blocked", "late", "excused", "absent", "cancelled", "resolved",
                "reassigned"]  # fmt: skip


@dataclass
class Plant:
    """Rows to insert; ids explicit. ``unit`` and ``person`` give ids by key."""

    units: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    leaders: list[dict[str, Any]] = field(default_factory=list)
    occurrences: list[dict[str, Any]] = field(default_factory=list)
    unit: dict[str, int] = field(default_factory=dict)
    person: dict[str, int] = field(default_factory=dict)

    def add_unit(self, key: str, parent: str | None) -> None:
        uid = len(self.units) + 1
        self.unit[key] = uid
        self.units.append({"id": uid, "key": key, "name": key.title(), "kind": "unit",
                           "parent_id": self.unit[parent] if parent else None} | STAMP)  # fmt: skip

    def add_person(self, key: str, unit: str) -> None:
        pid = len(self.people) + 1
        self.person[key] = pid
        self.people.append({"id": pid, "key": key, "name": key.title(), "unit_id": self.unit[unit],
                            "post": "operator", "language": "en"} | STAMP)  # fmt: skip

    def lead(self, unit: str, person: str, role: str = "leader") -> None:
        self.leaders.append(
            {"unit_id": self.unit[unit], "role": role, "person_id": self.person[person]}
        )

    def add_item(
        self,
        person: str,
        status: str,
        due: timedelta,
        *,
        day: date = DAY,
        promised: timedelta | None = None,
        owner: str | None = None,
    ) -> int:
        oid = len(self.occurrences) + 1
        pid = self.person[person]
        number = 1 + sum(1 for o in self.occurrences if o["person_id"] == pid and o["day"] == day)
        self.occurrences.append(
            {"id": oid, "duty_id": oid, "person_id": pid, "day": day, "number": number,
             "nudge_at": NOW - timedelta(hours=2), "due_at": NOW + due, "status": status,
             "status_at": NOW - timedelta(hours=1), "nudge_state": "queued",
             "created_at": NOW - timedelta(hours=3),
             "promised_at": None if promised is None else NOW + promised,
             "acked_by": self.person[owner] if owner else None}
        )  # fmt: skip
        return oid

    def store(self, engine: Engine) -> None:
        duties = [{"id": o["id"], "key": f"d{o['id']}", "title": f"Duty {o['id']}",
                   "post": "operator", "due": "+4h"} | STAMP for o in self.occurrences]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(Unit), self.units)
            conn.execute(insert(Person), self.people)
            if self.leaders:
                conn.execute(insert(Leadership), self.leaders)
            if self.occurrences:
                conn.execute(insert(Duty), duties)
                conn.execute(insert(Occurrence), self.occurrences)


def move(engine: Engine, plant: Plant, person: str, unit: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Person)
            .where(col(Person.id) == plant.person[person])
            .values(unit_id=plant.unit[unit])
        )


def settings(*admins: str) -> Settings:
    return Settings.model_validate({"access": {"admins": list(admins)}})


def team(engine: Engine, plant: Plant, who: str, s: Settings | None = None) -> list[str]:
    return board.team(engine, s or settings(), plant.person[who], "en", NOW).splitlines()


def overdue(engine: Engine, plant: Plant, who: str) -> list[str]:
    return board.overdue(engine, settings(), plant.person[who], "en", NOW).splitlines()


# --- named cases ------------------------------------------------------------------------------

#   plant (pm)
#     ws-a (head)
#       team-a1 (lead1)      alice, amy
#       team-a2 (vacant)     bob
#         cell-x (xena)      xavier
#     ws-b (bhead)
#       team-b1 (lead1 too)  carl


def small_plant() -> Plant:
    p = Plant()
    for key, parent in [("plant", None), ("ws-a", "plant"), ("team-a1", "ws-a"),
                        ("team-a2", "ws-a"), ("cell-x", "team-a2"), ("ws-b", "plant"),
                        ("team-b1", "ws-b")]:  # fmt: skip
        p.add_unit(key, parent)
    for key, unit in [("pm", "plant"), ("head", "ws-a"), ("lead1", "team-a1"),
                      ("alice", "team-a1"), ("amy", "team-a1"), ("bob", "team-a2"),
                      ("xena", "cell-x"), ("xavier", "cell-x"), ("bhead", "ws-b"),
                      ("carl", "team-b1")]:  # fmt: skip
        p.add_person(key, unit)
    for unit, person in [("plant", "pm"), ("ws-a", "head"), ("team-a1", "lead1"),
                         ("cell-x", "xena"), ("ws-b", "bhead")]:  # fmt: skip
        p.lead(unit, person)
    past, later = -timedelta(hours=1), timedelta(hours=2)
    p.add_item("alice", "open", past)  # 1
    p.add_item("amy", "done", past)  # 2
    p.add_item("bob", "open", past)  # 3: the vacant team
    p.add_item("xavier", "blocked", later)  # 4
    p.add_item("carl", "open", past)  # 5: the sibling workshop
    p.add_item("alice", "open", past, day=DAY - timedelta(days=1))  # yesterday: never shown
    p.add_item("amy", "cancelled", past)  # not on the board
    return p


def test_a_leader_sees_their_subtree_and_no_sibling(engine: Engine) -> None:
    p = small_plant()
    p.store(engine)
    assert team(engine, p, "xena") == [
        "Today, Tue, Nov 17:",
        "Cell-X: ✅ 0 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 0",
        "Open items:",
        "• Xavier — 1. Duty 4: ⛔ blocked, unowned",
    ]
    assert team(engine, p, "head") == [
        "Today, Tue, Nov 17:",
        "Ws-A: ✅ 1 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 2",
        "  Team-A1: ✅ 1 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 1",
        "  Team-A2: ✅ 0 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 1",  # vacant: counted
        "    Cell-X: ✅ 0 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 0",
        "Open items:",
        "• Xavier — 1. Duty 4: ⛔ blocked, unowned",
        "• Alice — 1. Duty 1: open, unowned",
        "• Bob — 1. Duty 3: open, unowned",
    ]
    assert overdue(engine, p, "head") == [
        "Past due and unowned:",
        "• Alice — 1. Duty 1: open, unowned",
        "• Bob — 1. Duty 3: open, unowned",
    ]
    carl = "• Carl — 1. Duty 5: open, unowned"
    assert overdue(engine, p, "bhead") == ["Past due and unowned:", carl]
    assert overdue(engine, p, "xena") == ["Nothing is past due and unowned."]
    refusal = "You do not lead a unit, so there is no team board for you."
    assert team(engine, p, "carl") == [refusal]


def test_nested_and_separate_units_of_one_leader(engine: Engine) -> None:
    p = small_plant()
    p.lead("ws-a", "lead1", "deputy")  # ws-a contains team-a1: one board, for ws-a
    p.lead("team-b1", "lead1")  # a separate unit: a board of its own, before ws-a (by key)
    p.store(engine)
    shown = team(engine, p, "lead1")
    assert [line for line in shown if "✅" in line] == [
        "Team-B1: ✅ 0 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 1",
        "Ws-A: ✅ 1 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 2",
        "  Team-A1: ✅ 1 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 1",
        "  Team-A2: ✅ 0 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 1",
        "    Cell-X: ✅ 0 · ⛔ 1 · 🕒 0 · excused 0 · absent 0 · no reply 0",
    ]
    assert shown[-4:] == [
        "• Carl — 1. Duty 5: open, unowned",  # the first board's items before the second's
        "• Xavier — 1. Duty 4: ⛔ blocked, unowned",
        "• Alice — 1. Duty 1: open, unowned",
        "• Bob — 1. Duty 3: open, unowned",
    ]


def test_a_person_moved_takes_their_items_along(engine: Engine) -> None:
    p = small_plant()
    p.store(engine)
    move(engine, p, "alice", "team-b1")
    assert "• Alice — 1. Duty 1: open, unowned" not in team(engine, p, "lead1")
    assert team(engine, p, "lead1")[1] == (
        "Team-A1: ✅ 1 · ⛔ 0 · 🕒 0 · excused 0 · absent 0 · no reply 0"
    )
    assert overdue(engine, p, "bhead")[1:] == [
        "• Alice — 1. Duty 1: open, unowned",
        "• Carl — 1. Duty 5: open, unowned",
    ]


def test_long_lists_say_how_many_more(engine: Engine) -> None:
    p = small_plant()
    for n in range(45):
        p.add_item("amy" if n % 2 else "alice", "open", -timedelta(minutes=5 + n))
    p.store(engine)
    shown = team(engine, p, "lead1")
    assert shown[2] == "Open items:"
    assert len(shown) == 3 + 40 + 1
    assert shown[-1] == "… and 6 more"  # 46 open past due in team-a1, 40 shown
    assert shown[3] == "• Alice — 1. Duty 1: open, unowned"  # by occurrence id


def test_a_wide_board_fits_one_message(engine: Engine) -> None:
    p = small_plant()
    for n in range(300):
        p.add_unit(f"crew-{n:03}", "cell-x")
        p.add_person(f"worker-{n:03}", f"crew-{n:03}")
        p.add_item(f"worker-{n:03}", "blocked", timedelta(hours=1))
    p.store(engine)
    text = board.team(engine, settings(), p.person["head"], "en", NOW)
    assert len(text) <= 4096
    lines = text.splitlines()
    assert lines[1] == "Ws-A: ✅ 1 · ⛔ 301 · 🕒 0 · excused 0 · absent 0 · no reply 2"
    assert "… and 300 units further down (counted in the rows above)" in lines
    assert lines[lines.index("Open items:") + 1] == "• Xavier — 1. Duty 4: ⛔ blocked, unowned"
    assert lines[-1].startswith("… and ") and lines[-1].endswith(" more")


# --- random plants against the reference ------------------------------------------------------


def random_plant(seed: int) -> tuple[Plant, list[tuple[str, str]]]:
    rng = random.Random(seed)
    p = Plant()
    p.add_unit("u00", None)
    for n in range(1, 14):  # parents earlier in the list: a tree, some of it deep
        p.add_unit(f"u{n:02}", f"u{rng.randrange(n):02}")
    if seed % 2:
        p.add_unit("other-top", None)  # a second top unit: an admin sees two boards
    unit_keys = list(p.unit)
    for n in range(40):
        p.add_person(f"p{n:02}", rng.choice(unit_keys))
    people = list(p.person)
    for unit in unit_keys:
        if rng.random() < 0.7:  # the rest are vacant
            p.lead(unit, rng.choice(people))
        if rng.random() < 0.3:
            p.lead(unit, rng.choice(people), "deputy")
    for person in people:
        for _ in range(rng.randrange(4)):
            status = rng.choice(RAW_STATUSES)
            promised = timedelta(minutes=rng.randrange(-90, 90)) if status == "late" else None
            owner = rng.choice(people) if rng.random() < 0.2 else None
            day = DAY if rng.random() < 0.9 else DAY + timedelta(days=1)
            due = timedelta(minutes=rng.randrange(-180, 180))
            p.add_item(person, status, due, day=day, promised=promised, owner=owner)
    moves = [(rng.choice(people), rng.choice(unit_keys)) for _ in range(4)]
    return p, moves


def reference(engine: Engine, s: Settings, person_id: int, view: str) -> str:
    """The board as it was read before: the whole day as rows, the subtree kept in Python."""
    with Session(engine) as session:
        tree = org.tree(session)
        person = session.get(Person, person_id)
        assert person is not None
        if person.key in s.access.admins:
            roots = [unit.id for unit in tree.units() if unit.parent_id is None]
        else:
            led = tree.units_led_by(person_id)
            roots = [u for u in led if not any(u != o and u in tree.subtree(o) for o in led)]
        zone = ZoneInfo(org.timezones(session, s.plant.timezone)(person.timezone, person.unit_id))
        rows = session.exec(
            select(Occurrence, Duty, Person)
            .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
            .join(Person, col(Person.id) == col(Occurrence.person_id))
            .where(col(Occurrence.day) == DAY, col(Occurrence.status) != "cancelled")
        ).all()
        items, names, promised = [], {}, {}
        for occ, duty, who in rows:
            status = BOARD.get(occ.status)
            if status is None:
                continue
            if status == "late" and occ.promised_at is not None:
                promised[occ.id] = when_label("en", occ.promised_at, zone, NOW)
            names[who.id] = who.name
            deadline = occ.promised_at or occ.due_at
            items.append(BoardItem(occ.id or 0, occ.person_id, who.unit_id, status,
                                   status in ("open", "late", "blocked") and deadline < NOW,
                                   occ.acked_by, f"{occ.number}. {duty.title}"))  # fmt: skip
        names |= {p.id: p.name for p in session.exec(select(Person)).all()}
        unit_names = {u.id: u.name for u in session.exec(select(Unit)).all()}

    def line(item: BoardItem) -> str:
        holder = (
            texts.render("en", "board.held_by", name=names[item.owner_id])
            if item.owner_id
            else texts.render("en", "board.unowned")
        )
        when = promised.get(item.occurrence_id, "")
        status = texts.render("en", f"status.{item.status}", time=when)
        return texts.render("en", "board.item", person=names[item.person_id], title=item.title,
                            status=status, holder=holder)  # fmt: skip

    def more(found: list[BoardItem], shown: int) -> list[str]:
        left = len(found) - shown
        return [texts.render("en", "board.more_items", count=left)] if left > 0 else []

    if not roots:
        return texts.render("en", "board.not_leader")
    if view == "overdue":
        found = [item for root in roots for item in overdue_items(tree, root, items)]
        if not found:
            return texts.render("en", "board.overdue_empty")
        shown = found[: board.OVERDUE_SHOWN]
        return "\n".join([texts.render("en", "board.overdue_header"), *map(line, shown),
                          *more(found, len(shown))])  # fmt: skip
    lines = [texts.render("en", "board.header", day=day_label("en", DAY))]
    open_items: list[BoardItem] = []
    for root in roots:
        whole = team_board(tree, root, items)
        for row in whole.rows:
            c = row.total
            lines.append(texts.render("en", "board.row", indent="  " * row.depth,
                                      unit=unit_names[row.unit_id], done=c.done,
                                      blocked=c.blocked, late=c.late, excused=c.excused,
                                      absent=c.absent, no_reply=c.no_reply))  # fmt: skip
        open_items.extend(whole.open_items)
    lines.append(texts.render("en", "board.open_header"))
    shown = open_items[: board.OPEN_SHOWN]
    lines.extend(map(line, shown))
    lines.extend(more(open_items, len(shown)))
    if not open_items:
        lines.append(texts.render("en", "board.nothing_open"))
    return "\n".join(lines)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_plants_show_what_the_whole_day_showed(engine: Engine, seed: int) -> None:
    p, moves = random_plant(seed)
    p.store(engine)
    for person, unit in moves:
        move(engine, p, person, unit)
    admin = next(iter(p.person))
    s = settings(admin)
    compared = 0
    for key, pid in p.person.items():
        for view, call in (("team", board.team), ("overdue", board.overdue)):
            expected = reference(engine, s, pid, view)
            assert call(engine, s, pid, "en", NOW) == expected, (key, view)
            compared += expected.count("\n• ") + expected.count(": ✅")
    assert compared > 40  # the plants are not empty: the comparison compared something
