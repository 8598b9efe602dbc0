"""Large ``IN (...)`` lists, a chunk at a time.

SQLite caps the variables of one statement (999 before 3.32, 32,766 since), and PostgreSQL's
protocol caps the parameters of one at 65,535; every store function that binds a list of
unbounded length (ids of a whole plant, dedupe keys of a whole pass) goes through ``chunked``
or ``select_in`` and so never meets either limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, TypeVarTuple, overload

from sqlalchemy import Select
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

CHUNK = 500  # values per IN (...) list (or rows per multi-row INSERT): well inside both limits

T = TypeVar("T")
R = TypeVar("R")
Ts = TypeVarTuple("Ts")


def chunked(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size`` (none for no values)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    for start in range(0, len(values), size):
        yield values[start : start + size]


@overload
def select_in(  # type: ignore[overload-overlap]  # SelectOfScalar is a Select: it goes first
    session: Session, values: Sequence[T], query: Callable[[Sequence[T]], SelectOfScalar[R]]
) -> list[R]: ...


@overload
def select_in(
    session: Session, values: Sequence[T], query: Callable[[Sequence[T]], Select[*Ts]]
) -> list[tuple[*Ts]]: ...


def select_in(
    session: Session, values: Sequence[T], query: Callable[[Sequence[T]], Any]
) -> list[Any]:
    """Every row ``query(chunk)`` selects, for each chunk of ``values`` in turn (``query``
    puts the chunk in its ``IN``): one entity or value per row for a select of one entity,
    tuples otherwise. No values, no query."""
    rows: list[Any] = []
    for chunk in chunked(values):
        statement = query(chunk)
        if isinstance(statement, SelectOfScalar):
            rows.extend(session.exec(statement).all())
        else:
            rows.extend(tuple(row) for row in session.execute(statement).all())
    return rows
