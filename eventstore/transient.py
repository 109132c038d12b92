"""Which database failures are transient: the same request, sent again, may well succeed.

  rolled_back(exc)      the database refused this transaction as a whole and undid it
                        (deadlock, serialization failure, lock timeout, SQLite busy):
                        running it again is always safe.
  connection_lost(exc)  the session died; whether a COMMIT in flight landed is unknown,
                        so only reads and idempotent writes may run again.

The error may come as the driver's own exception, or wrapped by SQLAlchemy (`.orig`),
or chained (`__cause__`); each is looked at.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from sqlalchemy.exc import DBAPIError

# deadlock_detected, serialization_failure, lock_not_available (lock_timeout), query_canceled
# is left out: it is also what a statement_timeout says, which another try would repeat.
ROLLED_BACK_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# Class 08 (connection exception) and the server going away under us.
_CONNECTION_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) else None


def rolled_back(exc: BaseException) -> bool:
    for e in _chain(exc):
        if _sqlstate(e) in ROLLED_BACK_SQLSTATES:
            return True
        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            return True
    return False


def connection_lost(exc: BaseException) -> bool:
    for e in _chain(exc):
        state = _sqlstate(e)
        if state is not None and (state.startswith("08") or state in _CONNECTION_SQLSTATES):
            return True
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, ConnectionError):
            return True
        if type(e).__name__ == "InterfaceError" and "closed" in str(e):  # asyncpg: "connection is closed"
            return True
    return False


def transient(exc: BaseException) -> bool:
    return rolled_back(exc) or connection_lost(exc)
