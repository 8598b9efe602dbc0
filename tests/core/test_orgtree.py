"""OrgTree: chains (deputies, vacancies, a leader's own duties, collapsing) and lookups."""

from dataclasses import replace

import pytest

from models.orgtree import Chain, ChainLink, OrgTree, TreePerson, TreeUnit, Vacancy
from tests.core.sample_org import (
    GONE,
    PEOPLE,
    PLANT,
    PM,
    QM,
    SO_A,
    SO_PLANT,
    TD,
    TEAM_A1,
    TEAM_A2,
    TEAM_B1,
    TL,
    TLB,
    UNITS,
    W1,
    W2,
    W3,
    W4,
    WD,
    WH,
    WS_A,
    WS_B,
    sample_tree,
)

NOBODY: frozenset[int] = frozenset()


def people_in(chain: Chain) -> list[tuple[int, int, int, str]]:
    return [(link.level, link.unit_id, link.person_id, link.via) for link in chain.links]


@pytest.mark.parametrize(
    ("person", "absent", "expected"),
    [
        # a worker: team leader, workshop head, plant manager
        (
            W1,
            NOBODY,
            [(1, TEAM_A1, TL, "leader"), (2, WS_A, WH, "leader"), (3, PLANT, PM, "leader")],
        ),
        # the deputy stands in while the leader is absent
        (W1, {TL}, [(1, TEAM_A1, TD, "deputy"), (2, WS_A, WH, "leader"), (3, PLANT, PM, "leader")]),
        (W1, {WH}, [(1, TEAM_A1, TL, "leader"), (2, WS_A, WD, "deputy"), (3, PLANT, PM, "leader")]),
        # a leader's own duties climb from the parent unit
        (TL, NOBODY, [(1, WS_A, WH, "leader"), (2, PLANT, PM, "leader")]),
        (WH, NOBODY, [(1, PLANT, PM, "leader")]),
        # a deputy answers to their leader, unless standing in for them
        (
            TD,
            NOBODY,
            [(1, TEAM_A1, TL, "leader"), (2, WS_A, WH, "leader"), (3, PLANT, PM, "leader")],
        ),
        (TD, {TL}, [(1, WS_A, WH, "leader"), (2, PLANT, PM, "leader")]),
        (WD, NOBODY, [(1, WS_A, WH, "leader"), (2, PLANT, PM, "leader")]),
        (WD, {WH}, [(1, PLANT, PM, "leader")]),
        # one person leading two nested units is there once, for the nearer unit
        (W4, NOBODY, [(1, TEAM_B1, TLB, "leader"), (2, WS_B, PM, "leader")]),
        (TLB, NOBODY, [(1, WS_B, PM, "leader")]),
        # the top unit ends the chain: the plant manager's own duties have nobody above
        (PM, NOBODY, []),
        (QM, NOBODY, [(1, PLANT, PM, "leader")]),
    ],
)
def test_chain(person, absent, expected):
    chain = sample_tree().chain(person, frozenset(absent))
    assert people_in(chain) == expected
    assert chain.vacancies == ()


@pytest.mark.parametrize(
    ("person", "absent", "expected_links", "vacancies"),
    [
        # leader and deputy absent: the unit is skipped, the next one up is level 1
        (
            W1,
            {TL, TD},
            [(1, WS_A, WH, "leader"), (2, PLANT, PM, "leader")],
            [Vacancy(TEAM_A1, "leader absent, deputy absent")],
        ),
        # a unit with nobody named
        (
            W3,
            set(),
            [(1, WS_A, WH, "leader"), (2, PLANT, PM, "leader")],
            [Vacancy(TEAM_A2, "no leader, no deputy")],
        ),
        # two vacancies on the way up
        (
            W1,
            {TL, TD, WH, WD},
            [(1, PLANT, PM, "leader")],
            [
                Vacancy(TEAM_A1, "leader absent, deputy absent"),
                Vacancy(WS_A, "leader absent, deputy absent"),
            ],
        ),
        # the top vacant: the chain ends early
        (
            TL,
            {PM, WH, WD},
            [],
            [
                Vacancy(WS_A, "leader absent, deputy absent"),
                Vacancy(PLANT, "leader absent, no deputy"),
            ],
        ),
    ],
)
def test_vacant_units_are_skipped_and_reported(person, absent, expected_links, vacancies):
    chain = sample_tree().chain(person, frozenset(absent))
    assert people_in(chain) == expected_links
    assert list(chain.vacancies) == vacancies


def test_an_inactive_leader_is_a_vacancy_the_deputy_fills():
    people = [replace(p, active=False) if p.id == TL else p for p in PEOPLE]
    tree = OrgTree(UNITS, people)
    assert tree.chain(W1).links[0] == ChainLink(1, TEAM_A1, TD, "deputy")
    chain = tree.chain(W1, frozenset({TD}))
    assert chain.vacancies == (Vacancy(TEAM_A1, "leader inactive, deputy absent"),)


def test_a_leader_not_given_to_the_tree_counts_as_inactive():
    units = [TreeUnit(1, "top", None, 99, None)]
    tree = OrgTree(units, [TreePerson(2, "w", 1, "operator", True)])
    assert tree.chain(2) == Chain((), (Vacancy(1, "leader inactive, no deputy"),))


def test_a_deputy_standing_in_for_a_vacant_leader_post():
    units = [TreeUnit(1, "top", None, 1, None), TreeUnit(2, "team", 1, None, 3)]
    people = [
        TreePerson(1, "boss", 1, "manager", True),
        TreePerson(2, "w", 2, "operator", True),
        TreePerson(3, "d", 2, "operator", True),
    ]
    tree = OrgTree(units, people)
    assert people_in(tree.chain(2)) == [(1, 2, 3, "deputy"), (2, 1, 1, "leader")]
    assert people_in(tree.chain(3)) == [(1, 1, 1, "leader")]


def test_the_person_is_never_in_their_own_chain():
    # person 2 leads the middle unit but works in the lowest one
    units = [
        TreeUnit(1, "top", None, 1, None),
        TreeUnit(2, "mid", 1, 2, None),
        TreeUnit(3, "low", 2, 3, None),
    ]
    people = [
        TreePerson(1, "a", 1, "manager", True),
        TreePerson(2, "b", 3, "operator", True),
        TreePerson(3, "c", 3, "lead", True),
        TreePerson(4, "d", 3, "operator", True),
    ]
    tree = OrgTree(units, people)
    assert people_in(tree.chain(2)) == [(1, 3, 3, "leader"), (2, 1, 1, "leader")]
    assert people_in(tree.chain(4)) == [
        (1, 3, 3, "leader"),
        (2, 2, 2, "leader"),
        (3, 1, 1, "leader"),
    ]


def test_same_person_again_later_in_the_chain_is_kept_when_not_in_a_row():
    units = [
        TreeUnit(1, "top", None, 1, None),
        TreeUnit(2, "mid", 1, 2, None),
        TreeUnit(3, "low", 2, 1, None),
    ]
    people = [
        TreePerson(1, "a", 1, "manager", True),
        TreePerson(2, "b", 2, "head", True),
        TreePerson(3, "c", 3, "operator", True),
    ]
    chain = OrgTree(units, people).chain(3)
    assert [link.person_id for link in chain.links] == [1, 2, 1]


def test_chains_for_different_absent_sets_do_not_mix():
    tree = sample_tree()
    assert tree.chain(W1, frozenset({TL})).links[0].person_id == TD
    assert tree.chain(W1).links[0].person_id == TL
    assert tree.chain(W1, frozenset({TL})).links[0].person_id == TD
    for day in range(10):  # many days in a long-running process
        tree.chain(W1, frozenset({1000 + day}))
    assert tree.chain(W1, frozenset({TL})).links[0].person_id == TD


def test_subtree_and_walk_are_depth_first_in_key_order():
    tree = sample_tree()
    assert tree.subtree(PLANT) == [PLANT, WS_A, TEAM_A1, TEAM_A2, WS_B, TEAM_B1]
    assert tree.walk(WS_A) == [(WS_A, 0), (TEAM_A1, 1), (TEAM_A2, 1)]
    assert tree.subtree(TEAM_B1) == [TEAM_B1]


def test_units_led_by():
    tree = sample_tree()
    assert tree.units_led_by(PM) == [PLANT, WS_B]
    assert tree.units_led_by(TD) == [TEAM_A1]
    assert tree.units_led_by(W1) == []


@pytest.mark.parametrize(
    ("leader", "person", "expected"),
    [
        (WH, W1, True),
        (WH, W3, True),
        (WH, W4, False),
        (TL, W1, True),
        (TL, W3, False),
        (TD, W1, True),
        (PM, W4, True),
        (TLB, W4, True),
        (W1, W1, False),
        (TL, TL, True),
    ],
)
def test_in_subtree(leader, person, expected):
    assert sample_tree().in_subtree(leader, person) is expected


@pytest.mark.parametrize(
    ("actor", "person", "expected"),
    [
        (TL, W1, True),
        (TD, W1, True),  # the deputy acts for the leader on the team below the leader
        (TD, TL, False),  # never on the leader's own items (item 11)
        (WD, TL, True),  # the workshop's deputy: the team leader is below the workshop head
        (WD, WH, False),
        (WH, TL, True),
        (WH, TD, True),
        (TL, TD, True),
        (TD, TD, False),
        (TL, TL, False),  # nobody stands above themselves
        (W1, W2, False),
        (TL, W3, False),
        (PM, WH, True),
    ],
)
def test_item11_stands_above(actor, person, expected):
    assert sample_tree().stands_above(actor, person) is expected


def test_holders_are_active_and_match_posts_loosely():
    tree = sample_tree()
    assert tree.holders(TEAM_A1, "Operator") == [W1, W2, TD]  # by key: a.one, a.two, t.deputy
    assert GONE not in tree.holders(TEAM_A1, "operator")
    assert tree.holders(WS_A, " safety   officer ") == [SO_A]
    assert tree.holders(TEAM_A2, "team leader") == []


@pytest.mark.parametrize(
    ("person", "post", "absent", "expected"),
    [
        (W1, "safety officer", NOBODY, SO_A),
        (W1, "safety officer", {SO_A}, SO_PLANT),
        (SO_A, "safety officer", NOBODY, SO_PLANT),  # never the person themselves
        (W4, "safety officer", NOBODY, SO_PLANT),
        (W1, "plant manager", NOBODY, PM),
        (W1, "plant manager", {PM}, None),
        (W1, "janitor", NOBODY, None),
    ],
)
def test_nearest_holder_up(person, post, absent, expected):
    assert sample_tree().nearest_holder_up(person, post, frozenset(absent)) == expected


def test_lookups_by_id_and_key():
    tree = sample_tree()
    assert tree.person_id("h.braun") == QM
    assert tree.person_id("nobody") is None
    assert tree.person(QM).key == "h.braun"
    assert tree.unit(WS_B).parent_id == PLANT


@pytest.mark.parametrize(
    ("units", "people", "message"),
    [
        (
            [TreeUnit(1, "a", 2, None, None), TreeUnit(2, "b", 1, None, None)],
            [],
            "its parents loop",
        ),
        ([TreeUnit(1, "a", 1, None, None)], [], "unit 'a': its parents loop"),
        ([TreeUnit(1, "a", 7, None, None)], [], "unit 'a': parent id 7 is not a unit"),
        (
            [TreeUnit(1, "a", None, None, None)],
            [TreePerson(1, "p", 5, "operator", True)],
            "person 'p': unit id 5 is not a unit",
        ),
    ],
)
def test_broken_trees_are_refused(units, people, message):
    with pytest.raises(ValueError, match=message):
        OrgTree(units, people)
