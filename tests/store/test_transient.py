"""Which database failures count as transient (eventstore/transient.py), on the drivers'
own exception types, bare and as SQLAlchemy wraps them."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from eventstore.transient import connection_lost, rolled_back
from service.retry import retryable


def _wrapped(error: Exception, invalidated: bool = False) -> DBAPIError:
    return DBAPIError.instance("SELECT 1", {}, error, Exception, connection_invalidated=invalidated)


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    asyncpg.exceptions.SerializationError("could not serialize access"),
    asyncpg.exceptions.LockNotAvailableError("canceling statement due to lock timeout"),
    sqlite3.OperationalError("database is locked"),
], ids=["deadlock", "serialization", "lock timeout", "sqlite busy"])
def test_undone_transactions_are_retried_even_when_not_idempotent(error):
    for exc in (error, _wrapped(error)):
        assert rolled_back(exc) and not connection_lost(exc)
        assert retryable(exc, idempotent=False)


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.InterfaceError("connection is closed"),
    ConnectionResetError("reset by peer"),
], ids=["gone", "terminated", "closed", "reset"])
def test_a_lost_connection_is_retried_only_where_running_twice_is_harmless(error):
    for exc in (error, _wrapped(error)):
        assert connection_lost(exc) and not rolled_back(exc)
        assert retryable(exc, idempotent=True) and not retryable(exc, idempotent=False)
    assert connection_lost(_wrapped(RuntimeError("driver state"), invalidated=True))


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.UniqueViolationError("duplicate key"),
    asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
    sqlite3.OperationalError("no such table: events"),
    ValueError("a bug"),
], ids=["unique", "statement timeout", "sqlite schema", "bug"])
def test_other_failures_are_not_retried(error):
    for exc in (error, _wrapped(error)):
        assert not retryable(exc, idempotent=True)


def test_a_chained_cause_counts():
    try:
        try:
            raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
        except Exception as inner:
            raise RuntimeError("the batch failed") from inner
    except RuntimeError as outer:
        assert rolled_back(outer)
    assert not rolled_back(OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error")))
