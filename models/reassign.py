"""Reassigning an item: its new due time, the pages of people to choose from, and reading a
typed name or key. Pure: plain data and ``now`` in, decisions out.

Rules:
- The new assignee gets the duty's own answer window from the moment of reassigning: the
  item is due at ``now + (due - nudge)`` of the item as it was, never earlier than its old due
  time. So a reassigned item never arrives already overdue and does not climb seconds later.
- The people to choose from are listed by name in pages of ``PAGE_SIZE``; pages are numbered
  from 1, and a page number outside ``1..pages`` is refused.
- A typed answer names one person: by key (exact, ignoring case), else by name (exact,
  ignoring case and extra spaces), else by the start of their name or of one of its words;
  several matches are listed back to choose from (the question stays open), none is said so
  (and the question is closed, so a line meant as something else is not taken for a name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PAGE_SIZE = 10
MAX_LISTED = 8  # names listed back when a typed answer fits several people


def reassigned_due(due_at: datetime, nudge_at: datetime, now: datetime) -> datetime:
    """When the reassigned item is due (see the module docstring)."""
    window = max(due_at - nudge_at, timedelta(0))
    return max(due_at, now + window)


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def page_slice(total: int, page: int) -> slice | None:
    """The slice of the people list shown on ``page`` (1-based), or None for no such page."""
    if not 1 <= page <= page_count(total):
        return None
    start = (page - 1) * PAGE_SIZE
    return slice(start, min(total, start + PAGE_SIZE))


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Choice:
    """What a typed answer named: exactly one person (``found``), or the people it fits
    (``several``, at most ``MAX_LISTED``), or nobody (both empty)."""

    found: Candidate | None = None
    several: tuple[Candidate, ...] = ()


def choose(typed: str, candidates: Sequence[Candidate]) -> Choice:
    wanted = _plain(typed)
    if not wanted:
        return Choice()
    tests = (_by_key, _by_name, _by_start)
    for test in tests:
        fits = [c for c in candidates if test(c, wanted)]
        if len(fits) == 1:
            return Choice(found=fits[0])
        if fits:
            return Choice(several=tuple(fits[:MAX_LISTED]))
    return Choice()


def _by_key(candidate: Candidate, wanted: str) -> bool:
    return candidate.key.casefold() == wanted


def _by_name(candidate: Candidate, wanted: str) -> bool:
    return _plain(candidate.name) == wanted


def _by_start(candidate: Candidate, wanted: str) -> bool:
    name = _plain(candidate.name)
    return name.startswith(wanted) or any(word.startswith(wanted) for word in name.split(" "))


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()
