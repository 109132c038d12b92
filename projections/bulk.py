"""Writing many read-model rows at once.

Rebuild: on PostgreSQL rows go in with COPY on the rebuild's own connection (inside
its transaction): one round trip per table and no statement rendering per row, which
is what a rebuild of a million events spends most of its write time on otherwise.
Elsewhere they are inserted in chunks with the driver's executemany (`eventstore.sqlite_bulk`).

Inline (in an append transaction): on PostgreSQL a projection's statement rides in
the store's flush (`write_pg`), so the events and every read model they change are
written in one round trip while the append lock is held.
"""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, AsyncIterator, Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore.sqlite_bulk import insert_tuples
from eventstore.store import active_transaction

CHUNK = 5000
COPY_CHUNK = 100_000
MAINTENANCE_WORK_MEM = "256MB"


async def insert_records(
    conn: AsyncConnection, table: Table, columns: Sequence[str], records: Sequence[tuple[Any, ...]],
) -> None:
    """Insert `records` (tuples of the `columns`' values)."""
    if not records:
        return
    if conn.dialect.name == "postgresql":
        raw = (await conn.get_raw_connection()).driver_connection
        for start in range(0, len(records), COPY_CHUNK):
            await raw.copy_records_to_table(table.name, columns=list(columns),
                                            records=records[start:start + COPY_CHUNK])
        return
    for start in range(0, len(records), CHUNK):
        await insert_tuples(conn, table, columns, records[start:start + CHUNK])


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, as `table.insert()` takes them)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        await insert_records(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])
        return
    columns = tuple(rows[0])
    for start in range(0, len(rows), CHUNK):
        await insert_tuples(conn, table, columns, [tuple(map(r.__getitem__, columns)) for r in rows[start:start + CHUNK]])


async def write_pg(conn: AsyncConnection, sql: str, *args: Any) -> None:
    """Run a PostgreSQL write: inside an append transaction as part of its flush (a rider,
    see `AppendTransaction.ride`), otherwise at once on the connection."""
    tx = active_transaction(conn)
    if tx is not None and tx.takes_riders:
        tx.ride(sql, args)
        return
    await (await conn.get_raw_connection()).driver_connection.execute(sql, *args)


@lru_cache(maxsize=None)
def pg_insert_sql(table: Table, columns: tuple[str, ...]) -> str:
    """INSERT of column arrays, one parameter per column whatever the number of rows."""
    dialect = postgresql.dialect()
    # VARCHAR, not VARCHAR(n): a cast to a length truncates; the insert itself refuses.
    arrays = ", ".join(
        f"${n}::{re.sub(r'[(].*[)]', '', table.c[c].type.compile(dialect=dialect))}[]"
        for n, c in enumerate(columns, 1)
    )
    return f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"


async def insert_rows_inline(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert a transaction's rows (dicts with the same keys): on PostgreSQL in one statement
    that rides in the flush, elsewhere as `insert_rows` does."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        await insert_rows(conn, table, rows)
        return
    columns = tuple(rows[0])
    await write_pg(conn, pg_insert_sql(table, columns), *([r[c] for r in rows] for c in columns))


_INDEXES_SQL = """
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, c.conname AS constraint_name,
       c.contype AS constraint_type
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
WHERE x.indrelid = $1::regclass
ORDER BY i.relname
"""


_KINDS = {"p": "PRIMARY KEY", "u": "UNIQUE"}


@asynccontextmanager
async def indexes_rebuilt_after(conn: AsyncConnection, tables: Sequence[Table]) -> AsyncIterator[None]:
    """Drop the tables' indexes (with their primary key and unique constraints) for the body, then
    recreate them exactly as they were (PostgreSQL only; elsewhere a no-op).

    Building an index once over loaded rows is several times cheaper than keeping it up
    to date row by row, above all for random keys such as event and causation ids. The
    drop and the re-creation are in the caller's transaction, so no one ever sees the
    tables without them; readers of these tables wait for the transaction instead.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    raw = (await conn.get_raw_connection()).driver_connection
    # Index builds sort every row: let this transaction's sorts stay in memory longer.
    await raw.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
    dropped: list[tuple[str, Any]] = []
    for table in tables:
        for ix in await raw.fetch(_INDEXES_SQL, table.name):
            if ix["constraint_name"] is not None and ix["constraint_type"] not in _KINDS:
                continue  # an exclusion or other constraint: leave it in place
            if ix["constraint_name"] is not None:
                await raw.execute(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{ix["constraint_name"]}"')
            else:
                await raw.execute(f'DROP INDEX "{ix["name"]}"')
            dropped.append((table.name, ix))
    yield
    for table_name, ix in dropped:
        await raw.execute(ix["definition"])
        if ix["constraint_name"] is not None:
            kind = _KINDS[ix["constraint_type"]]
            await raw.execute(
                f'ALTER TABLE "{table_name}" ADD CONSTRAINT "{ix["constraint_name"]}" {kind} USING INDEX "{ix["name"]}"'
            )
