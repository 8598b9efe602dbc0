"""What the weekly report shows (bot/services/weekly.py ``build`` and ``caption``), from
figures given by hand: the levels of the reader's subtree, the people's rates, the units one
level down in the trend and the blocks, and the caption's rate, weakest unit, not done and
unresolved blocks."""

from __future__ import annotations

from datetime import date

from bot.render.charts import Level
from bot.services.weekly import build, caption
from models.figures import Figures
from models.orgtree import OrgTree, TreePerson, TreeUnit

# plant (1) -> shop A (2) -> team A1 (4); plant -> shop B (3) -> team B1 (5)
UNITS = [
    TreeUnit(1, "plant", None, 10, None),
    TreeUnit(2, "a", 1, 11, None),
    TreeUnit(3, "b", 1, None, None),
    TreeUnit(4, "a1", 2, None, None),
    TreeUnit(5, "b1", 3, None, None),
]
PEOPLE = [
    TreePerson(10, "boss", 1, "head", True),
    TreePerson(11, "anna", 2, "head", True),
    TreePerson(20, "w1", 4, "operator", True),
    TreePerson(21, "w2", 5, "operator", True),
    TreePerson(22, "gone", 5, "operator", False),
]
NAMES = {1: "Plant", 2: "Shop A", 3: "Shop B", 4: "Team A1", 5: "Team B1"}
WEEK = {
    1: Figures(due=10, on_time=6, late=1, not_done=2, excused=1, unresolved=1),
    2: Figures(due=4, on_time=3, late=1, blocked_skill=1),
    3: Figures(due=6, on_time=3, not_done=2, excused=1, unresolved=1, blocked_process=2),
    4: Figures(due=4, on_time=3, late=1, blocked_skill=1),
    5: Figures(due=6, on_time=3, not_done=2, excused=1, unresolved=1, blocked_process=2),
}
EARLIER = {2: Figures(due=2, on_time=2), 3: Figures(due=2, on_time=1)}
PEOPLE_WEEK = {20: Figures(due=4, on_time=3), 21: Figures(due=6, on_time=3, excused=1)}
MONDAY = date(2026, 11, 23)


def test_the_plant_head_sees_every_level_and_the_weakest_workshop() -> None:
    tree = OrgTree(UNITS, PEOPLE)
    report = build(tree, PEOPLE, NAMES, [EARLIER, WEEK], PEOPLE_WEEK, 10, "en", MONDAY)
    assert report is not None
    chart = report.chart
    assert chart.title == "Plant: week 47"
    # Plant 6/(10-1); workshops (3+3)/(10-1); teams the same; Shop B 3/(6-1)
    assert list(chart.levels) == [
        Level("Plant", 6 / 9, [("Plant", 6 / 9)]),
        Level("Level 2", 6 / 9, [("Shop A", 3 / 4), ("Shop B", 3 / 5)]),
        Level("Level 3", 6 / 9, [("Team A1", 3 / 4), ("Team B1", 3 / 5)]),
    ]
    assert sorted(chart.people) == [3 / 5, 3 / 4]  # the inactive left out, the heads had none
    assert list(chart.weeks) == ["46", "47"]
    assert [(n, list(r)) for n, r in chart.trend] == [
        ("Shop A", [1.0, 3 / 4]),
        ("Shop B", [1 / 2, 3 / 5]),
    ]
    assert list(chart.blocks) == [("Shop A", 0, 1, 0), ("Shop B", 2, 0, 0)]
    assert caption("en", report) == (
        "Plant, week 47 (Nov 16 – Nov 22)\n"
        "On time: 67%\n"
        "Weakest: Shop B (60%)\n"
        "Not done: 2 · unresolved blocks: 1"
    )
    assert caption("de", report).splitlines()[1] == "Pünktlich: 67\xa0%"  # CLDR: no-break space


def test_a_team_lead_without_units_below_sees_their_own_unit() -> None:
    tree = OrgTree(UNITS, PEOPLE)
    report = build(tree, PEOPLE, NAMES, [WEEK], PEOPLE_WEEK, 11, "en", MONDAY)
    assert report is not None
    assert [level.name for level in report.chart.levels] == ["Shop A", "Level 2"]
    assert [name for name, _ in report.chart.trend] == ["Team A1"]
    assert report.weakest is None  # one unit below: nothing to compare
    assert caption("en", report).splitlines()[-1] == "Not done: 0 · unresolved blocks: 0"


def test_somebody_who_leads_nothing_gets_no_report() -> None:
    tree = OrgTree(UNITS, PEOPLE)
    assert build(tree, PEOPLE, NAMES, [WEEK], PEOPLE_WEEK, 20, "en", MONDAY) is None
