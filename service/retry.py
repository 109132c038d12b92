"""Transient database failures are retried here, in the service, never shown as internal errors.

  await retrying(operation, idempotent=True)

runs `operation()` again after a deadlock, a serialization failure, a lock timeout or
SQLite's busy (the database undid the transaction: always safe), and, when
`idempotent`, after a lost connection too (a COMMIT in flight may have landed, so only
reads and writes that are no-ops the second time qualify). When every attempt failed
that way it raises `Unavailable` (code UNAVAILABLE: try again later), which says that
nothing was decided.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Awaitable, Callable, TypeVar

from domain.errors import Unavailable
from eventstore.transient import connection_lost, rolled_back

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 5
FIRST_DELAY = 0.01  # seconds, doubled after each failure, with jitter so two victims part


def retryable(exc: BaseException, idempotent: bool) -> bool:
    return rolled_back(exc) or (idempotent and connection_lost(exc))


async def retrying(operation: Callable[[], Awaitable[T]], *, idempotent: bool, what: str = "request",
                   attempts: int = ATTEMPTS) -> T:
    delay = FIRST_DELAY
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Exception as exc:  # noqa: BLE001 - only transient failures are retried
            if not retryable(exc, idempotent):
                raise
            log.warning("%s: transient database failure (attempt %d of %d): %s", what, attempt, attempts, exc)
            if attempt == attempts:
                raise Unavailable(f"the database was busy ({type(exc).__name__}); nothing was decided, "
                                  "send the request again", retryable=True) from exc
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay *= 2
    raise AssertionError("unreachable")
