"""A small plant shared by the escalation tests.

plant (1)            leader PM 1, no deputy
  ws-a (2)           leader WH 2, deputy WD 3
    team-a1 (3)      leader TL 4, deputy TD 5; workers 6, 7; inactive worker 13
    team-a2 (4)      vacant; worker 9
  ws-b (5)           led by PM 1 as well
    team-b1 (6)      leader TLB 10; worker 11
People outside teams: safety officer 8 (ws-a), quality manager 12 and safety officer 14
(plant).
"""

from models.orgtree import OrgTree, TreePerson, TreeUnit

PM, WH, WD, TL, TD, W1, W2, SO_A, W3, TLB, W4, QM, GONE, SO_PLANT = range(1, 15)
PLANT, WS_A, TEAM_A1, TEAM_A2, WS_B, TEAM_B1 = range(1, 7)

UNITS = [
    TreeUnit(PLANT, "plant", None, PM, None),
    TreeUnit(WS_A, "ws-a", PLANT, WH, WD),
    TreeUnit(TEAM_A1, "team-a1", WS_A, TL, TD),
    TreeUnit(TEAM_A2, "team-a2", WS_A, None, None),
    TreeUnit(WS_B, "ws-b", PLANT, PM, None),
    TreeUnit(TEAM_B1, "team-b1", WS_B, TLB, None),
]
PEOPLE = [
    TreePerson(PM, "m.keller", PLANT, "plant manager", True),
    TreePerson(WH, "w.head", WS_A, "workshop head", True),
    TreePerson(WD, "w.deputy", WS_A, "deputy head", True),
    TreePerson(TL, "t.lead", TEAM_A1, "team leader", True),
    TreePerson(TD, "t.deputy", TEAM_A1, "operator", True),
    TreePerson(W1, "a.one", TEAM_A1, "operator", True),
    TreePerson(W2, "a.two", TEAM_A1, "operator", True),
    TreePerson(SO_A, "s.officer", WS_A, "Safety Officer", True),
    TreePerson(W3, "a.three", TEAM_A2, "operator", True),
    TreePerson(TLB, "b.lead", TEAM_B1, "team leader", True),
    TreePerson(W4, "b.one", TEAM_B1, "operator", True),
    TreePerson(QM, "h.braun", PLANT, "quality manager", True),
    TreePerson(GONE, "x.gone", TEAM_A1, "operator", False),
    TreePerson(SO_PLANT, "s.plant", PLANT, "safety officer", True),
]


def sample_tree() -> OrgTree:
    return OrgTree(UNITS, PEOPLE)
