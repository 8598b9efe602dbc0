"""Reassigning: the new due time, the pages of people, and reading a typed name or key."""

from datetime import UTC, datetime, timedelta

import pytest

from models.reassign import PAGE_SIZE, Candidate, choose, page_count, page_slice, reassigned_due

NUDGE = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
DUE = NUDGE + timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE + timedelta(minutes=15), DUE + timedelta(hours=1, minutes=15)),  # overdue: a window
        (NUDGE + timedelta(minutes=5), DUE + timedelta(minutes=5)),
        (NUDGE - timedelta(hours=3), DUE),  # before the nudge: never earlier than the old due
    ],
)
def test_item7_a_reassigned_item_gets_the_duties_window_from_now(now, expected):
    assert reassigned_due(DUE, NUDGE, now) == expected


def test_item7_a_due_before_its_nudge_counts_as_no_window():
    assert reassigned_due(NUDGE, DUE, DUE) == DUE


@pytest.mark.parametrize(
    ("total", "page", "expected"),
    [
        (30, 1, slice(0, PAGE_SIZE)),
        (30, 3, slice(2 * PAGE_SIZE, 30)),
        (31, 4, slice(30, 31)),
        (30, 4, None),
        (30, 0, None),
        (0, 1, slice(0, 0)),
        (3, 2, None),
    ],
)
def test_item14_pages(total, page, expected):
    assert page_slice(total, page) == expected
    assert page_count(total) == max(1, -(-total // PAGE_SIZE))


PEOPLE = [
    Candidate(1, "a.weber", "Anna Weber"),
    Candidate(2, "a.wolf", "Anna Wolf"),
    Candidate(3, "b.koch", "Bernd Koch"),
    Candidate(4, "weber", "Carla Bauer"),
]


@pytest.mark.parametrize(
    ("typed", "found", "several"),
    [
        ("A.WOLF", 2, ()),  # a key, ignoring case
        ("weber", 4, ()),  # a key wins over the start of a name
        ("  anna   weber ", 1, ()),  # a whole name, ignoring case and spaces
        ("koch", 3, ()),  # the start of a word of the name
        ("Bern", 3, ()),
        ("anna", None, (1, 2)),  # several: listed back
        ("zoe", None, ()),
        ("", None, ()),
    ],
)
def test_item14_a_typed_name_or_key(typed, found, several):
    choice = choose(typed, PEOPLE)
    assert (choice.found.id if choice.found else None) == found
    assert tuple(c.id for c in choice.several) == several
