"""Heavy reads in a worker process, off the server's event loop.

A leadership report loads every objective's budget (about 1,250 ledgers on a 100,000-event
log), a decision's replay folds the log up to it and the chain check reads and hashes all
of it. Paced reads hand the loop back every few rows, but what they build cannot be paced:
the cyclic collector walks the tens of thousands of objects they keep alive (70,000 for a
replay's fold: 70-180 ms a young collection on the 2-core machine), and freeing them at
the end takes 30-70 ms in one go. Measured in bench.stall, `/healthz` waited 194 ms
(report) and 70 ms (replay) at p99; and under CPU contention even the chain check's
100-row slices grew long enough to hold it up.

So a server (`api.main.create_app_for`) runs them in one worker process (`spawn`ed: a
clean interpreter, not a fork of a running event loop and its threads), which keeps its
own container (engines, and its own warm ledger cache across reports). The server's loop
only awaits the answer; whatever the worker's collector or allocator does, it does there.
The worker is started by the first heavy read (importing the project takes about a
second); the reads already take `container.long_reads.slot` one at a time, so one
worker is enough. Containers without one (tests, the CLI) run the same function inline.

What runs there (the report, the replay's fold, the chain check): a module-level
coroutine function `fn(container, *args)` whose arguments and result pickle; the wall
clock is read by the caller, not by the worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Awaitable, Callable, TypeVar

from domain.errors import Unavailable
from service.config import Settings

T = TypeVar("T")
NICENESS = 10  # added to the worker's nice value (lower priority)

Heavy = Callable[..., Awaitable[T]]


async def run_heavy(container: Any, fn: Heavy[T], *args: Any) -> T:
    """`await fn(container, *args)`, in the container's worker process if it has one."""
    offload = getattr(container, "offload", None)
    if offload is None:
        return await fn(container, *args)
    return await offload.run(fn, *args)


class Offload:
    """One worker process, started on first use, stopped (killed if busy) by `stop`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._pid: int | None = None

    async def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=(self.settings,))
            self._pid = await asyncio.get_running_loop().run_in_executor(self._pool, os.getpid)
        return self._pool

    async def run(self, fn: Heavy[T], *args: Any) -> T:
        pool = await self._started()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _call, fn, args)
        except BrokenProcessPool as exc:  # the worker died (killed, out of memory): a new one next time
            self._pool, self._pid = None, None
            pool.shutdown(wait=False)
            raise Unavailable("the worker process for long reads stopped; send the request again",
                              retryable=True) from exc

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (tests)."""
        return self._pid

    async def stop(self) -> None:
        """End the worker now: a read in progress there is abandoned (its caller is shutting down)."""
        pool, pid, self._pool, self._pid = self._pool, self._pid, None, None
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        await asyncio.to_thread(pool.shutdown, wait=True)


# --- in the worker ----------------------------------------------------------------

_worker: dict[str, Any] = {}


def _start(settings: Settings) -> None:
    from service.bootstrap import build

    # Ctrl-C reaches the whole process group: the server decides when its worker ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the server in the scheduler's eyes: on a machine with few cores a report's CPU
    # would otherwise take turns with the loop that answers health checks and the gate.
    os.nice(NICENESS)
    loop = asyncio.new_event_loop()
    container = build(settings, auto_migrate=False)
    loop.run_until_complete(container.startup())
    _worker.update(loop=loop, container=container)


def _call(fn: Heavy[T], args: tuple[Any, ...]) -> T:
    return _worker["loop"].run_until_complete(fn(_worker["container"], *args))
