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
            if processors:
                chunk = [_processed(row, processors) for row in chunk]
            connection.exec_driver_sql(sql, chunk)
            written += len(chunk)
        return written
    statement = insert(table)
    keys = list(columns)
    while chunk := list(islice(iterator, CHUNK)):
        connection.execute(statement, [dict(zip(keys, row, strict=True)) for row in chunk])
        written += len(chunk)
    return written


def _processed(
    row: Sequence[Any], processors: list[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)
