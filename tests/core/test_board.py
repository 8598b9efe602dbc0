"""team_board and overdue_items: counts per unit, rolled up; what is still open."""

import random
from collections import Counter

import pytest

from models.board import (
    BoardItem,
    Counts,
    Tally,
    UnitRow,
    counts_by_unit,
    fit_board,
    open_list,
    open_picks,
    open_total,
    overdue_items,
    overdue_list,
    overdue_picks,
    overdue_total,
    team_board,
    unit_rows,
)
from tests.core.sample_org import (
    PLANT,
    TD,
    TEAM_A1,
    TEAM_A2,
    TEAM_B1,
    TL,
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


def item(occurrence, person, unit, status, overdue=False, owner=None):
    return BoardItem(occurrence, person, unit, status, overdue, owner, f"duty {occurrence}")


ITEMS = [
    item(1, W1, TEAM_A1, "done"),
    item(2, W2, TEAM_A1, "blocked", overdue=True, owner=TL),
    item(3, TD, TEAM_A1, "open", overdue=True),
    item(4, TL, TEAM_A1, "open"),
    item(5, W3, TEAM_A2, "late"),
    item(6, W3, TEAM_A2, "excused"),
    item(7, WH, WS_A, "absent"),
    item(8, WD, WS_A, "open", overdue=True, owner=WH),
    item(9, W4, TEAM_B1, "blocked", overdue=True),
    item(10, W1, TEAM_A1, "late", overdue=True),
]


def test_rows_roll_up():
    board = team_board(sample_tree(), PLANT, ITEMS)
    assert board.rows == (
        UnitRow(PLANT, 0, Counts(), Counts(1, 2, 2, 1, 1, 3)),
        UnitRow(WS_A, 1, Counts(absent=1, no_reply=1), Counts(1, 1, 2, 1, 1, 3)),
        UnitRow(TEAM_A1, 2, Counts(1, 1, 1, 0, 0, 2), Counts(1, 1, 1, 0, 0, 2)),
        UnitRow(TEAM_A2, 2, Counts(late=1, excused=1), Counts(late=1, excused=1)),
        UnitRow(WS_B, 1, Counts(), Counts(blocked=1)),
        UnitRow(TEAM_B1, 2, Counts(blocked=1), Counts(blocked=1)),
    )
    assert board.rows[0].total.total == len(ITEMS)


def test_open_items_blocked_then_late_then_overdue():
    board = team_board(sample_tree(), PLANT, ITEMS)
    assert [i.occurrence_id for i in board.open_items] == [2, 9, 10, 5, 8, 3]
    assert [i.owner_id for i in board.open_items] == [TL, None, None, None, WH, None]


def test_a_team_board_leaves_out_other_units():
    board = team_board(sample_tree(), TEAM_A1, ITEMS)
    assert board.rows == (UnitRow(TEAM_A1, 0, Counts(1, 1, 1, 0, 0, 2), Counts(1, 1, 1, 0, 0, 2)),)
    assert [i.occurrence_id for i in board.open_items] == [2, 10, 3]


def test_an_empty_day():
    board = team_board(sample_tree(), WS_B, [])
    assert board.rows == (
        UnitRow(WS_B, 0, Counts(), Counts()),
        UnitRow(TEAM_B1, 1, Counts(), Counts()),
    )
    assert board.open_items == ()


def test_overdue_lists_past_due_items_nobody_took():
    assert [i.occurrence_id for i in overdue_items(sample_tree(), PLANT, ITEMS)] == [3, 10, 9]
    assert [i.occurrence_id for i in overdue_items(sample_tree(), WS_B, ITEMS)] == [9]


def test_unknown_status():
    with pytest.raises(ValueError, match="status: expected one of done, blocked"):
        item(1, W1, TEAM_A1, "cancelled")


# --- counted by the database: tallies, picks, and the message's length ------------------------


def tallies_of(items):
    keys = Counter((i.unit_id, i.status, i.overdue, i.owner_id is not None) for i in items)
    return [Tally(*key, n) for key, n in keys.items()]


def read(picks, items):
    """What the store hands back for ``picks``: matching items, in the pick's unit order then
    occurrence id, at most its limit."""
    out = []
    for pick in picks:
        found = [
            i
            for i in items
            if i.unit_id in pick.units
            and i.status in pick.statuses
            and (i.overdue or not pick.past_due)
            and (i.owner_id is None or not pick.unowned)
        ]
        found.sort(key=lambda i: (pick.units.index(i.unit_id), i.occurrence_id))
        out.extend(found[: pick.limit])
    return out


def test_rows_from_tallies_are_the_rows_from_items():
    tree = sample_tree()
    own = counts_by_unit(tallies_of(ITEMS))
    for top in (PLANT, WS_A, TEAM_A1, WS_B):
        assert unit_rows(tree, top, own) == team_board(tree, top, ITEMS).rows


def random_items(seed):
    rng = random.Random(seed)
    units = [PLANT, WS_A, TEAM_A1, TEAM_A2, WS_B, TEAM_B1]
    statuses = ["done", "blocked", "late", "excused", "absent", "open"]
    ids = rng.sample(range(1, 1000), rng.randrange(0, 120))
    return [
        item(oid, W1, rng.choice(units), status := rng.choice(statuses),
             overdue=status in ("open", "late", "blocked") and rng.random() < 0.6,
             owner=TL if rng.random() < 0.3 else None)
        for oid in ids
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(30))
def test_picks_read_exactly_the_first_items_of_each_list(seed):
    tree = sample_tree()
    items = random_items(seed)
    tallies = tallies_of(items)
    for roots in ([PLANT], [WS_A], [TEAM_A2, WS_B], [WS_B, TEAM_A1]):
        whole_open = [i for root in roots for i in team_board(tree, root, items).open_items]
        whole_overdue = [i for root in roots for i in overdue_items(tree, root, items)]
        assert open_total(tree, roots, tallies) == len(whole_open)
        assert overdue_total(tree, roots, tallies) == len(whole_overdue)
        for limit in (1, 3, 40):
            picks = open_picks(tree, roots, tallies, limit)
            assert sum(p.limit for p in picks) == min(limit, len(whole_open))
            assert all(len(p.units) <= p.limit for p in picks)  # few units per statement
            assert open_list(tree, roots, read(picks, items)) == whole_open[:limit]
            picks = overdue_picks(tree, roots, tallies, limit)
            assert overdue_list(tree, roots, read(picks, items)) == whole_overdue[:limit]


def frame(rows, units_left, items, items_left):
    out = ["head", *rows]
    if units_left:
        out.append(f"+{units_left} units")
    out.extend(items)
    if items_left:
        out.append(f"+{items_left}")
    return out


def test_fit_board_keeps_everything_that_fits():
    rows = [(0, "a"), (1, "b"), (2, "c")]
    assert fit_board(rows, ["x", "y"], 0, frame) == "head\na\nb\nc\nx\ny"
    assert fit_board(rows, ["x", "y"], 5, frame) == "head\na\nb\nc\nx\ny\n+5"


def test_fit_board_drops_the_deepest_rows_then_items_then_cuts():
    rows = [(0, "top"), (1, "mid1"), (2, "deep1"), (2, "deep2"), (1, "mid2")]
    items = ["item-one", "item-two"]
    whole = fit_board(rows, items, 0, frame)
    assert fit_board(rows, items, 0, frame, limit=len(whole)) == whole
    assert fit_board(rows, items, 0, frame, limit=len(whole) - 1) == (
        "head\ntop\nmid1\nmid2\n+2 units\nitem-one\nitem-two"
    )
    assert fit_board(rows, items, 0, frame, limit=40) == "head\ntop\n+4 units\nitem-one\nitem-two"
    assert fit_board(rows, items, 0, frame, limit=34) == "head\ntop\n+4 units\nitem-one\n+1"
    assert fit_board(rows, items, 0, frame, limit=28) == "head\ntop\n+4 units\n+2"
    assert fit_board(rows, items, 0, frame, limit=10) == "head\ntop…"
    for limit in range(1, 80):
        assert len(fit_board(rows, items, 3, frame, limit=limit)) <= limit
