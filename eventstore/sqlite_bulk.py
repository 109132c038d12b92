"""Many rows into a SQLite table with the driver's own executemany.

SQLAlchemy's executemany of parameter dicts builds and processes a dict per row; an
append of a collection round (1,000 commands) writes ~4,000 rows that way under the
write lock (events, stream versions, the event index, budget summaries), and that
per-row work cost about as much as SQLite's own. Here a statement is rendered once per
(table, columns) and the rows go to the driver as tuples; only the columns whose type
converts a value on the way in (a DateTime to its text, a Boolean to 0 or 1) are
converted, by the type's own bind processor, so the stored values are the ones
SQLAlchemy would have written.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Processors = tuple[tuple[int, Callable[[Any], Any]], ...]


@lru_cache(maxsize=64)
def _plan(dialect: Dialect, table: Table, columns: tuple[str, ...], upsert_on: tuple[str, ...]) -> tuple[str, Processors]:
    """The INSERT (an upsert when `upsert_on` names the conflict columns) and the
    (column index, bind processor) pairs its values go through."""
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})")
    if upsert_on:
        updated = [c for c in columns if c not in upsert_on]
        sql += (f" ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in updated))
    processors = []
    for i, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process))
    return sql, tuple(processors)


async def insert_tuples(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
    *, upsert_on: Sequence[str] = (),
) -> None:
    """Insert (or, with `upsert_on`, upsert) rows given as tuples of the `columns`' values
    in one executemany, on a SQLite connection."""
    sql, processors = _plan(conn.dialect, table, tuple(columns), tuple(upsert_on))
    if processors:
        last: dict[int, tuple[Any, Any]] = {}
        rows = [_processed(row, processors, last) for row in rows]
    elif not isinstance(rows, list):
        rows = list(rows)
    if rows:
        await conn.exec_driver_sql(sql, rows)


def _processed(row: Sequence[Any], processors: Processors, last: dict[int, tuple[Any, Any]]) -> tuple[Any, ...]:
    """The row with its converted columns converted. The very object the row before held
    in a column (the time every event of a transaction is recorded at) is converted once:
    `last` keeps, per column, the last object and what it became."""
    values = list(row)
    for i, process in processors:
        value = values[i]
        if value is not None:
            before = last.get(i)
            if before is not None and before[0] is value:
                values[i] = before[1]
            else:
                values[i] = process(value)
                last[i] = (value, values[i])
    return tuple(values)
