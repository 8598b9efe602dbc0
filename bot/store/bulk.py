"""Many rows in and out at once, for the passes that write or read a whole plant (planning).

SQLAlchemy converts every value of every row through its column type (a ``UTCDateTime`` to
SQLite's text, a JSON policy to its text, a date to text and back): for 200,000 occurrences of
five instants each that is a million calls, mostly of the same few values (a plant's nudge
times repeat, every row has the same ``now``). Here each column's conversion is done once per
distinct value of one call, and the rows go to the driver in one ``executemany`` (PostgreSQL:
one ``COPY``), or come from one plain cursor, without the ORM's bookkeeping.

What is stored and read is exactly what SQLAlchemy would store and read: the conversions are
the column types' own (``bind_processor`` and ``result_processor`` for the connection's
dialect), and a column left out of the rows gets its scalar default as in a Core insert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import JSON, Select, Table, insert, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.types import NullType
from sqlmodel import Session

Convert = Callable[[Any], Any]
Ts = TypeVarTuple("Ts")


def _bound(values: Sequence[Any], convert: Convert | None) -> Sequence[Any]:
    """``values`` converted for the driver, once per distinct object (the same object always
    converts alike; rows built from shared values, as the planner's are, convert a few)."""
    if convert is None:
        return values
    ids = list(map(id, values))
    done = {key: convert(value) for key, value in dict(zip(ids, values, strict=True)).items()}
    return list(map(done.__getitem__, ids))


def _read(values: tuple[Any, ...], convert: Convert | None) -> tuple[Any, ...]:
    """A column of driver values converted, once per distinct value: equal driver values of
    one type convert alike (values of several types are told apart by type; unhashable ones,
    a parsed JSON document, are converted one by one)."""
    if convert is None:
        return values
    try:
        distinct = set(values)
    except TypeError:
        return tuple(convert(value) for value in values)
    if len(set(map(type, distinct))) == 1:
        done = {value: convert(value) for value in distinct}
        return tuple(done[value] for value in values)
    typed = {(value.__class__, value): convert(value) for value in values}
    return tuple(typed[value.__class__, value] for value in values)


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (mappings with the same keys, column names of ``table``): the rows of
    ``insert_columns``."""
    if rows:
        insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]})


def insert_columns(
    session: Session,
    table: Table,
    columns: Mapping[str, Sequence[Any]],
    same: Mapping[str, Any] | None = None,
) -> None:
    """INSERT rows given column by column: ``columns`` maps column names of ``table`` to
    their values, one a row (equal lengths); ``same`` maps names to the one value every row
    has. In one ``executemany`` (on PostgreSQL with psycopg, one ``COPY``) on the session's
    connection and transaction; the caller chunks (SQLite holds its write lock while it
    runs). A column with a scalar default that neither gives gets that default; one with a
    Python function as default must be given."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"insert_columns: columns of unequal lengths {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    if not count:
        return
    connection = session.connection()
    dialect = connection.dialect
    same = dict(same or {})
    for name, value in _scalar_defaults(table).items():
        if name not in columns:
            same.setdefault(name, value)
    names = [*columns, *same]
    compiled = insert(table).compile(dialect=dialect, column_keys=names, for_executemany=True)
    if compiled.insert_prefetch:
        missing = [c.name for c in compiled.insert_prefetch]
        raise ValueError(f"insert_columns: give {missing} of {table.name} (no scalar default)")
    copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
    converted: dict[str, Sequence[Any]] = {}
    for name in names:
        type_ = table.c[name].type
        if copy and isinstance(type_, JSON):  # COPY takes the document's text
            convert: Convert | None = json.dumps
        else:
            convert = type_.dialect_impl(dialect).bind_processor(dialect)
        if name in columns:
            converted[name] = _bound(columns[name], convert)
        else:  # one value for every row: converted once
            value = same[name] if convert is None else convert(same[name])
            converted[name] = [value] * count
    if copy:
        _copy(connection, table, names, [converted[name] for name in names])
        return
    if compiled.positional:
        order = [converted[name] for name in compiled.positiontup or ()]
        params: list[Any] = list(zip(*order, strict=True))
    else:
        params = [
            dict(zip(names, values, strict=True))
            for values in zip(*(converted[name] for name in names), strict=True)
        ]
    connection.exec_driver_sql(compiled.string, params)


# psycopg's names for the column types (as PostgreSQL's DDL spells them) that a binary COPY
# sends as they are; a table with a column of any other type is copied as text
_BINARY_TYPES = {
    "BIGINT": "int8",
    "BOOLEAN": "bool",
    "DATE": "date",
    "INTEGER": "int4",
    "JSON": "text",  # its binary form is its text (the rows hold it dumped, once per document)
    "SMALLINT": "int2",
    "TEXT": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "varchar",
}


def _copy(
    connection: Connection, table: Table, names: list[str], columns: list[Sequence[Any]]
) -> None:
    """PostgreSQL's COPY, its fastest way in (one stream instead of a statement a row); in
    binary when every column's type allows, which spares both sides formatting and parsing
    instants as text (at 200,000 rows, half the time)."""
    dialect = connection.dialect
    preparer = dialect.identifier_preparer
    target = preparer.format_table(table)
    listed = ", ".join(preparer.quote(name) for name in names)
    ddl = [table.c[name].type.compile(dialect=dialect).split("(")[0] for name in names]
    binary = [_BINARY_TYPES.get(kind) for kind in ddl]
    known = [kind for kind in binary if kind is not None]
    form = " (FORMAT BINARY)" if len(known) == len(names) else ""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {target} ({listed}) FROM STDIN{form}") as copy:
        if form:
            copy.set_types(known)
        for values in zip(*columns, strict=True):
            copy.write_row(values)


def _scalar_defaults(table: Table) -> dict[str, Any]:
    found = {}
    for column in table.c:
        default = column.default
        if default is not None and default.is_scalar:
            found[column.name] = default.arg  # type: ignore[attr-defined]
    return found


def select_rows(session: Session, query: Select[*Ts]) -> list[tuple[*Ts]]:
    """The rows of ``query`` (a select of plain columns: numbers, text, dates, instants) as
    tuples, on the session's connection, each column's conversion done once per distinct
    value."""
    connection = session.connection()
    dialect = connection.dialect
    selected = list(query.selected_columns)
    raw = query.with_only_columns(
        *(type_coerce(column, NullType()).label(f"c{i}") for i, column in enumerate(selected))
    )
    rows = connection.execute(raw).all()
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    for index, column in enumerate(selected):
        convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        columns[index] = _read(columns[index], convert)
    return list(zip(*columns, strict=True))
