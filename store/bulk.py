"""Bulk inserts of many rows: the driver's own ``executemany`` on SQLite.

SQLAlchemy's executemany builds and processes a parameter dictionary per row, about
20-30 µs of Python per row: for a province (125,000 row outcomes, 110,000 people, three
allocations of 110,000 seats and homes each) that was most of the import's time in the
state database. On SQLite the rows go straight to ``sqlite3``'s ``executemany`` as tuples,
each value passed through its column type's own bind processor (JSON, dates, booleans),
so what is stored is exactly what SQLAlchemy would have stored. Other databases
(PostgreSQL) keep SQLAlchemy's statement, whose ``insertmanyvalues`` batching is the fast
path there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session

# Rows per statement: bounds the memory of one batch of parameters.
CHUNK = 5000


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples aligned with ``columns``) into ``table``; return how many.

    ``rows`` may be a generator: it is consumed chunk by chunk, so memory stays flat.
    """
    connection = session.connection()
    dialect = connection.dialect
    iterator = iter(rows)
    written = 0
    if dialect.name == "sqlite":
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(columns):
            column_type = table.c[name].type
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors.append((index, processor))
        # Names from the schema's metadata (table.c[name] checked above), quoted: no input.
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
        while chunk := list(islice(iterator, CHUNK)):
            connection.exec_driver_sql(sql, _processed(chunk, processors) if processors else chunk)
            written += len(chunk)
        return written
    statement = insert(table)
    keys = list(columns)
    while chunk := list(islice(iterator, CHUNK)):
        connection.execute(statement, [dict(zip(keys, row, strict=True)) for row in chunk])
        written += len(chunk)
    return written


def _processed(
    chunk: Sequence[Sequence[Any]], processors: list[tuple[int, Callable[[Any], Any]]]
) -> list[tuple[Any, ...]]:
    """The rows of ``chunk`` with the processed columns' values replaced by their stored form.

    Column by column, not row by row: a column's values go through its processor in one
    loop, and a value that is the very object of the row before (the import's time stamp,
    ``None``, a shared empty list) reuses that row's result: processors are pure functions
    of their value.
    """
    columns: list[Sequence[Any]] = list(zip(*chunk, strict=True))
    for index, process in processors:
        processed: list[Any] = []
        append = processed.append
        last: object = _NOTHING
        stored: Any = None
        for value in columns[index]:
            if value is not last:
                last, stored = value, process(value)
            append(stored)
        columns[index] = processed
    return list(zip(*columns, strict=True))


_NOTHING = object()
