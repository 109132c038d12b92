"""Long reads run one at a time in a server process.

The chain check (`auditIntegrity`), the leadership report and a decision's replay each
read the whole log or every read model. Several at once would share the one event loop
with every other request; so each takes the one slot first (`async with
container.long_reads.slot("verify")`), and the reads themselves hand the loop back
between slices of rows (eventstore/verify.py, eventstore/reader.py, eventstore/export.py),
so health checks and deploy decisions are answered while one runs.

A second long read waits for the slot; beyond `max_waiting` waiting ones the next is
told to retry (`Unavailable`, code UNAVAILABLE) rather than queued without end.

Reads that are short one by one but come by the hundred in one query (an objective's
budget or ledger, for each of a hundred objectives) take turns instead: at most `TURNS`
at once from their database read to their result (`async with long_reads.turn()`).
Otherwise all hundred are in flight together, and every pass of the event loop runs
the dozens whose rows just arrived, one after the other, before anyone else's.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from domain.errors import Unavailable

MAX_WAITING = 64
TURNS = 4


class LongReads:
    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.max_waiting = max_waiting
        self._slot = asyncio.Lock()
        self._turns = asyncio.Semaphore(TURNS)
        self.waiting = 0
        self.running: str | None = None  # what holds the slot (for tests and logs)

    @asynccontextmanager
    async def slot(self, what: str) -> AsyncIterator[None]:
        if self._slot.locked() and self.waiting >= self.max_waiting:
            raise Unavailable(f"{self.waiting} long reads are waiting already ({self.running} is running); "
                              "send the request again later", running=self.running)
        self.waiting += 1
        try:
            await self._slot.acquire()
        finally:
            self.waiting -= 1
        self.running = what
        try:
            yield
        finally:
            self.running = None
            self._slot.release()

    def turn(self) -> asyncio.Semaphore:
        """One of the `TURNS` places for a short read of a sweep (see the module doc)."""
        return self._turns
