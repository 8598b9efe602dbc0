"""team_board and overdue_items: counts per unit, rolled up; what is still open."""

import pytest

from models.board import BoardItem, Counts, UnitRow, overdue_items, team_board
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
