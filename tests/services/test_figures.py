"""bot.store.figures: the supervision figures of people and units, counted by the database
(SQLite and PostgreSQL), compared with numbers worked out by hand.

The plant, over two weeks (Mon 19 Oct to Sun 1 Nov 2026, Europe/Berlin; clocks go back on
Sun 25 Oct at 01:00 UTC, so 09:00 is 07:00 UTC before and 08:00 UTC from that day):

    plant (pm)
      ws-a (head-a)          head-a
        team-a1 (lead-a1)    anna, arno
        team-a2 (lead-a2)    bert (night shifts, 18:00-06:00)
      ws-b (head-b)
        team-b1 (lead-b1)    carla, cem

Every item is listed below with what it counts as; the expected figures are written out as
numbers. Besides, every case of tests/core/test_figures_rules.py is stored and counted by
the database, which must agree with ``models.figures.classify`` at several instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.figures import person_figures, unit_figures
from models.figures import Facts, Figures, classify
from models.tables import Duty, Occurrence, Person, Reply, Unit
from tests.core.test_figures_rules import CASES, DUE, SEC
from tests.core.test_figures_rules import NOW as RULES_NOW

START, END = date(2026, 10, 19), date(2026, 11, 1)
WEEK1_END, WEEK2_START = date(2026, 10, 25), date(2026, 10, 26)
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CREATED = datetime(2026, 10, 1, tzinfo=UTC)
STAMP = {"created_at": CREATED, "updated_at": CREATED}


def z(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in UTC (the comments give Berlin's wall clock)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Plant:
    units: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    occurrences: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    unit: dict[str, int] = field(default_factory=dict)
    person: dict[str, int] = field(default_factory=dict)

    def add_unit(self, key: str, parent: str | None) -> None:
        uid = len(self.units) + 1
        self.unit[key] = uid
        self.units.append({"id": uid, "key": key, "name": key, "kind": "unit",
                           "parent_id": self.unit[parent] if parent else None} | STAMP)  # fmt: skip

    def add_person(self, key: str, unit: str) -> None:
        pid = len(self.people) + 1
        self.person[key] = pid
        self.people.append({"id": pid, "key": key, "name": key, "unit_id": self.unit[unit],
                            "post": "operator", "language": "en"} | STAMP)  # fmt: skip

    def item(
        self,
        person: str,
        day: date,
        due: datetime,
        status: str,
        status_at: datetime | None = None,
        *,
        ended: bool = False,
        next_step: datetime | None = None,
        replies: list[tuple[str, str | None, datetime | None]] | None = None,
    ) -> None:
        """One occurrence; ``replies``: (kind, category, promised) in the order given."""
        oid = len(self.occurrences) + 1
        pid = self.person[person]
        self.occurrences.append(
            {"id": oid, "duty_id": oid, "person_id": pid, "day": day, "number": 1,
             "nudge_at": due - timedelta(hours=2), "due_at": due, "status": status,
             "status_at": status_at or due - timedelta(hours=2), "nudge_state": "queued",
             "created_at": CREATED, "escalation_ended": ended, "next_step_at": next_step}
        )  # fmt: skip
        for kind, category, promised in replies or []:
            self.replies.append(
                {"id": len(self.replies) + 1, "occurrence_id": oid, "person_id": pid,
                 "kind": kind, "category": category, "new_due_at": promised, "via": "button",
                 "created_at": due - timedelta(hours=1)}
            )  # fmt: skip

    def store(self, engine: Engine) -> None:
        duties = [
            {"id": o["id"], "key": f"d{o['id']}", "title": f"Duty {o['id']}", "post": "operator"}
            | STAMP
            for o in self.occurrences
        ]
        with engine.begin() as conn:
            conn.execute(insert(Unit), self.units)
            conn.execute(insert(Person), self.people)
            if self.occurrences:
                conn.execute(insert(Duty), duties)
                conn.execute(insert(Occurrence), self.occurrences)
            if self.replies:
                conn.execute(insert(Reply), self.replies)


def two_weeks() -> Plant:
    p = Plant()
    for key, parent in [("plant", None), ("ws-a", "plant"), ("team-a1", "ws-a"),
                        ("team-a2", "ws-a"), ("ws-b", "plant"), ("team-b1", "ws-b")]:  # fmt: skip
        p.add_unit(key, parent)
    for key, unit in [("pm", "plant"), ("head-a", "ws-a"), ("lead-a1", "team-a1"),
                      ("anna", "team-a1"), ("arno", "team-a1"), ("lead-a2", "team-a2"),
                      ("bert", "team-a2"), ("head-b", "ws-b"), ("lead-b1", "team-b1"),
                      ("carla", "team-b1"), ("cem", "team-b1")]:  # fmt: skip
        p.add_person(key, unit)
    d, done, later = date, ("done", None, None), "later"
    # fmt: off
    # anna: 09:00 CEST is 07:00 UTC until Sat 24 Oct
    p.item("anna", d(2026, 10, 19), z(10, 19, 7), "done", z(10, 19, 6, 50),
           replies=[done])  # done 08:50: on time
    p.item("anna", d(2026, 10, 20), z(10, 20, 7), "done", z(10, 20, 7, 30),
           replies=[done])  # done 09:30: late
    p.item("anna", d(2026, 10, 21), z(10, 21, 7), "done", z(10, 21, 8, 45),
           replies=[(later, None, z(10, 21, 9)), done])  # "later 11:00", done 10:45: on time
    p.item("anna", d(2026, 10, 22), z(10, 22, 7), "absent")  # absent
    p.item("anna", d(2026, 10, 23), z(10, 23, 7), "cancelled")  # not counted
    p.item("anna", d(2026, 10, 25), z(10, 25, 8), "done", z(10, 25, 7, 30),
           replies=[done])  # the clocks went back: 09:00 CET is 08:00 UTC; 08:30: on time
    p.item("anna", d(2026, 10, 26), z(10, 26, 8), "resolved", z(10, 26, 9), ended=True,
           replies=[("blocked", "waiting", None)])  # resolved 10:00: late; process
    p.item("anna", d(2026, 11, 1), z(11, 1, 8), "open",
           next_step=z(11, 2, 12))  # a step still pending at NOW: open
    # arno
    p.item("arno", d(2026, 10, 19), z(10, 19, 7), "done", z(10, 19, 10, 15),
           replies=[(later, None, z(10, 19, 10)), done])  # "later 12:00", done 12:15: late
    p.item("arno", d(2026, 10, 20), z(10, 20, 7), "excused", ended=True)  # excused
    p.item("arno", d(2026, 10, 21), z(10, 21, 7), "open", ended=True)  # not done
    p.item("arno", d(2026, 10, 27), z(10, 27, 8), "blocked", ended=True,
           replies=[("blocked", "help", None)])  # not done; skill; unresolved
    p.item("arno", d(2026, 10, 28), z(10, 28, 8), "reassigned", ended=True)  # -> carla's
    p.item("arno", d(2026, 10, 29), z(10, 29, 8), "late",
           replies=[(later, None, z(10, 29, 10))])  # no policy, promise passed: not done
    # bert: a night shift belongs to the day it starts
    p.item("bert", d(2026, 10, 24), z(10, 25, 5), "done", z(10, 25, 5, 30),
           replies=[done])  # Sat 18:00 CEST -> Sun 06:00 CET (13 h), done 06:30: late
    p.item("bert", d(2026, 10, 25), z(10, 26, 5), "done", z(10, 26, 4, 30),
           replies=[done])  # Sun 18:00 -> Mon 06:00 CET, done 05:30: on time
    p.item("bert", d(2026, 10, 30), z(10, 31, 5), "blocked", ended=True,
           replies=[("blocked", "materials", None), ("blocked", None, None)])
    # ^ a note after the block: still process; not done; unresolved
    p.item("bert", d(2026, 11, 1), z(11, 2, 5), "excused", z(11, 1, 20), ended=True,
           replies=[("blocked", "materials", None)])  # excused; process
    # carla
    p.item("carla", d(2026, 10, 19), z(10, 19, 7), "done", z(10, 19, 6),
           replies=[done])  # on time
    for day in (20, 21, 22):
        p.item("carla", d(2026, 10, day), z(10, day, 7), "absent")  # absent x3
    p.item("carla", d(2026, 10, 26), z(10, 26, 8), "resolved", z(10, 26, 7), ended=True,
           replies=[("blocked", "other", None)])  # resolved 08:00 CET: on time; other
    p.item("carla", d(2026, 10, 27), z(10, 27, 8), "done", z(10, 27, 8, 30),
           replies=[("blocked", "waiting", None), done])  # done after the block: late only
    p.item("carla", d(2026, 10, 28), z(10, 28, 12), "done", z(10, 28, 11),
           replies=[done])  # arno's, reassigned to her: on time, hers
    # cem
    p.item("cem", d(2026, 10, 18), z(10, 18, 7), "open", ended=True)  # before the period
    p.item("cem", d(2026, 10, 21), z(10, 21, 7), "open")  # no policy, past due: not done
    p.item("cem", d(2026, 10, 29), z(10, 29, 8), "excused", ended=True)  # excused
    p.item("cem", d(2026, 11, 2), z(11, 2, 8), "open", ended=True)  # after the period
    # head-a
    p.item("head-a", d(2026, 10, 23), z(10, 23, 7), "done", z(10, 23, 7),
           replies=[done])  # done at 09:00 exactly: on time
    # fmt: on
    return p


F = Figures
PEOPLE = {
    "anna": F(due=7, on_time=3, late=2, open=1, blocked_process=1, absent=1),
    "arno": F(due=5, late=1, not_done=3, blocked_skill=1, unresolved=1, excused=1),
    "bert": F(due=4, on_time=1, late=1, not_done=1, blocked_process=2, unresolved=1, excused=1),
    "carla": F(due=7, on_time=3, late=1, blocked_other=1, absent=3),
    "cem": F(due=2, not_done=1, excused=1),
    "head-a": F(due=1, on_time=1),
    "pm": F(), "lead-a1": F(), "lead-a2": F(), "head-b": F(), "lead-b1": F(),
}  # fmt: skip
UNITS = {
    "team-a1": F(due=12, on_time=3, late=3, not_done=3, open=1, blocked_process=1,
                 blocked_skill=1, unresolved=1, excused=1, absent=1),
    "team-a2": F(due=4, on_time=1, late=1, not_done=1, blocked_process=2, unresolved=1,
                 excused=1),
    "ws-a": F(due=17, on_time=5, late=4, not_done=4, open=1, blocked_process=3, blocked_skill=1,
              unresolved=2, excused=2, absent=1),
    "team-b1": F(due=9, on_time=3, late=1, not_done=1, blocked_other=1, excused=1, absent=3),
    "ws-b": F(due=9, on_time=3, late=1, not_done=1, blocked_other=1, excused=1, absent=3),
    "plant": F(due=26, on_time=8, late=5, not_done=5, open=1, blocked_process=3,
               blocked_skill=1, blocked_other=1, unresolved=2, excused=3, absent=4),
}  # fmt: skip
PEOPLE_WEEK1 = {
    "anna": F(due=5, on_time=3, late=1, absent=1),
    "arno": F(due=3, late=1, not_done=1, excused=1),
    "bert": F(due=2, on_time=1, late=1),
    "carla": F(due=4, on_time=1, absent=3),
    "cem": F(due=1, not_done=1),
    "head-a": F(due=1, on_time=1),
}
UNITS_WEEK1 = {
    "team-a1": F(due=8, on_time=3, late=2, not_done=1, excused=1, absent=1),
    "team-a2": F(due=2, on_time=1, late=1),
    "ws-a": F(due=11, on_time=5, late=3, not_done=1, excused=1, absent=1),
    "team-b1": F(due=5, on_time=1, not_done=1, absent=3),
    "ws-b": F(due=5, on_time=1, not_done=1, absent=3),
    "plant": F(due=16, on_time=6, late=3, not_done=2, excused=1, absent=4),
}
PEOPLE_WEEK2 = {
    "anna": F(due=2, late=1, open=1, blocked_process=1),
    "arno": F(due=2, not_done=2, blocked_skill=1, unresolved=1),
    "bert": F(due=2, not_done=1, blocked_process=2, unresolved=1, excused=1),
    "carla": F(due=3, on_time=2, late=1, blocked_other=1),
    "cem": F(due=1, excused=1),
}
UNITS_WEEK2 = {
    "team-a1": F(due=4, late=1, not_done=2, open=1, blocked_process=1, blocked_skill=1,
                 unresolved=1),
    "team-a2": F(due=2, not_done=1, blocked_process=2, unresolved=1, excused=1),
    "ws-a": F(due=6, late=1, not_done=3, open=1, blocked_process=3, blocked_skill=1,
              unresolved=2, excused=1),
    "team-b1": F(due=4, on_time=2, late=1, blocked_other=1, excused=1),
    "ws-b": F(due=4, on_time=2, late=1, blocked_other=1, excused=1),
    "plant": F(due=10, on_time=2, late=2, not_done=3, open=1, blocked_process=3,
               blocked_skill=1, blocked_other=1, unresolved=2, excused=2),
}  # fmt: skip


def people(engine: Engine, p: Plant, start: date, end: date, now: datetime = NOW) -> dict[str, F]:
    names = {pid: key for key, pid in p.person.items()}
    with Session(engine) as session:
        found = person_figures(session, start, end, now)
    return {names[pid]: figures for pid, figures in found.items()}


def units(engine: Engine, p: Plant, start: date, end: date, now: datetime = NOW) -> dict[str, F]:
    names = {uid: key for key, uid in p.unit.items()}
    with Session(engine) as session:
        found = unit_figures(session, start, end, now)
    return {names[uid]: figures for uid, figures in found.items()}


def test_two_weeks_of_a_three_level_plant(engine: Engine) -> None:
    p = two_weeks()
    p.store(engine)
    with_items = {key: f for key, f in PEOPLE.items() if f.due}
    assert people(engine, p, START, END) == with_items
    assert units(engine, p, START, END) == UNITS
    assert people(engine, p, START, WEEK1_END) == PEOPLE_WEEK1
    assert units(engine, p, START, WEEK1_END) == UNITS_WEEK1
    assert people(engine, p, WEEK2_START, END) == PEOPLE_WEEK2
    assert units(engine, p, WEEK2_START, END) == UNITS_WEEK2
    assert UNITS["plant"].rate == 8 / 19  # 26 due - 3 excused - 4 absent
    assert UNITS_WEEK1["plant"] + UNITS_WEEK2["plant"] == UNITS["plant"]


def test_asked_for_people_and_units(engine: Engine) -> None:
    p = two_weeks()
    p.store(engine)
    with Session(engine) as session:
        asked = [p.person["pm"], p.person["bert"]]
        assert person_figures(session, START, END, NOW, asked) == {
            p.person["pm"]: F(),
            p.person["bert"]: PEOPLE["bert"],
        }
        ws_a, team_a2 = p.unit["ws-a"], p.unit["team-a2"]
        assert unit_figures(session, START, END, NOW, [ws_a, team_a2]) == {
            ws_a: UNITS["ws-a"],
            team_a2: UNITS["team-a2"],
        }
        # a period with nothing in it: zero figures for the units asked for
        empty = date(2026, 12, 1)
        assert unit_figures(session, empty, empty, NOW, [ws_a]) == {ws_a: F()}
        assert person_figures(session, START, END, NOW, []) == {}
        assert unit_figures(session, START, END, NOW, []) == {}
        with pytest.raises(ValueError, match="after"):
            unit_figures(session, END, START, NOW)


def test_days_and_the_night_shift(engine: Engine) -> None:
    p = two_weeks()
    p.store(engine)
    # Sunday 25 Oct: anna's day duty and bert's night shift that started that evening and
    # ended on Monday; bert's shift that ended that morning belongs to Saturday.
    sunday = date(2026, 10, 25)
    assert people(engine, p, sunday, sunday) == {
        "anna": F(due=1, on_time=1),
        "bert": F(due=1, on_time=1),
    }
    saturday = date(2026, 10, 24)
    assert people(engine, p, saturday, saturday) == {"bert": F(due=1, late=1)}
    assert people(engine, p, WEEK2_START, WEEK2_START) == {
        "anna": F(due=1, late=1, blocked_process=1),
        "carla": F(due=1, on_time=1, blocked_other=1),
    }


def test_an_open_item_counts_as_open_until_its_escalation_ends(engine: Engine) -> None:
    p = two_weeks()
    p.store(engine)
    nov1 = date(2026, 11, 1)
    # anna's item has a step pending: open whenever it is asked; cem's (no policy) item of
    # 21 Oct is open until its due instant has passed
    later = datetime(2026, 12, 1, tzinfo=UTC)
    assert people(engine, p, nov1, nov1, later)["anna"] == F(due=1, open=1)
    oct21 = date(2026, 10, 21)
    assert people(engine, p, oct21, oct21, z(10, 21, 7))["cem"] == F(due=1, open=1)
    assert people(engine, p, oct21, oct21, z(10, 21, 7, 1))["cem"] == F(due=1, not_done=1)


# --- the database agrees with models.figures.classify ----------------------------------------


def replies_of(facts: Facts) -> list[tuple[str, str | None, datetime | None]]:
    """Replies that make the database see ``facts``: the promise, the categorized block,
    then the latest answer."""
    replies: list[tuple[str, str | None, datetime | None]] = []
    if facts.promised_at is not None:
        replies.append(("later", None, facts.promised_at))
    if facts.block_category is not None:
        replies.append(("blocked", facts.block_category, None))
    if facts.last_answer is not None and not (
        facts.last_answer == "blocked" and facts.block_category is not None
    ):
        replies.append((facts.last_answer, None, None))
    return replies


def test_the_sql_agrees_with_the_rules_on_every_case(engine: Engine) -> None:
    p = Plant()
    p.add_unit("plant", None)
    day = date(2026, 10, 25)
    for index, (_, facts, _) in enumerate(CASES):
        key = f"p{index}"
        p.add_person(key, "plant")
        p.item(key, day, facts.due_at, facts.status, facts.status_at,
               ended=facts.escalation_ended, next_step=facts.next_step_at,
               replies=replies_of(facts))  # fmt: skip
    p.store(engine)
    for now in (DUE - SEC, DUE, DUE + SEC, RULES_NOW - SEC, RULES_NOW, RULES_NOW + SEC):
        with Session(engine) as session:
            asked = [p.person[f"p{i}"] for i in range(len(CASES))]
            found = person_figures(session, day, day, now, asked)
            plant = unit_figures(session, day, day, now)[p.unit["plant"]]
        expected = [classify(facts, now) for _, facts, _ in CASES]
        assert [found[pid] for pid in asked] == expected, now
        total = F()
        for figures in expected:
            total = total + figures
        assert plant == total


def test_the_latest_promise_and_the_latest_named_block_count(engine: Engine) -> None:
    p = Plant()
    p.add_unit("plant", None)
    for key in ("ida", "jan", "kai"):
        p.add_person(key, "plant")
    day = date(2026, 10, 26)
    # "later 12:00", then "later 10:00"; done 11:00 CET: the promise in force was broken
    p.item("ida", day, z(10, 26, 8), "done", z(10, 26, 10), ended=True,
           replies=[("later", None, z(10, 26, 11)), ("later", None, z(10, 26, 9)),
                    ("done", None, None)])  # fmt: skip
    # blocked "waiting", then blocked "help", then a note: the side is skill
    p.item("jan", day, z(10, 26, 8), "blocked", ended=True,
           replies=[("blocked", "waiting", None), ("blocked", "help", None),
                    ("blocked", None, None)])  # fmt: skip
    # a block, then "later": the latest answer is no block; the promise passed unkept
    p.item("kai", day, z(10, 26, 8), "late",
           replies=[("blocked", "help", None), ("later", None, z(10, 26, 9))])  # fmt: skip
    p.store(engine)
    assert people(engine, p, day, day) == {
        "ida": F(due=1, late=1),
        "jan": F(due=1, not_done=1, blocked_skill=1, unresolved=1),
        "kai": F(due=1, not_done=1),
    }
    # before kai's promise passed, with no policy: open
    assert people(engine, p, day, day, z(10, 26, 9))["kai"] == F(due=1, open=1)
