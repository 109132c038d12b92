"""What every command shares: the database option, the container a command runs in,
one-line failures, and the small formatting helpers tables and times need."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, List, Optional, TypeVar

import typer

from service.config import Settings

T = TypeVar("T")
THREADS_GRACE_SECONDS = 5.0  # the most a command waits, once done, for the threads it started to end
DatabaseOption = typer.Option(None, "--database-url", envvar="SLOGOV_DATABASE_URL",
                              help="SQLAlchemy URL; default: sqlite+aiosqlite:///./slogov.db")


def settings(database_url: Optional[str], **overrides: Any) -> Settings:
    return Settings.from_env(database_url=database_url, **overrides)


def with_container(database_url: Optional[str], work: Callable[..., Awaitable[T]], **overrides: Any) -> T:
    """Build the container from the environment, start it, run `work(container)`, shut it down."""
    from service.bootstrap import build

    async def run() -> T:
        container = build(settings(database_url, **overrides))
        try:  # shut down even when startup fails (an unreachable database): no stray threads
            await container.startup()
            return await work(container)
        finally:
            await container.shutdown()

    return run_to_end(run())


def run_to_end(main: Awaitable[T]) -> T:
    """`asyncio.run(main)`, except that the event loop is closed only once the threads the
    run started have ended (THREADS_GRACE_SECONDS at most, in all).

    Why: a database connection that fails to open (an SQLite file in a missing directory)
    leaves aiosqlite's worker thread stopping on its own -- nothing can await it, the
    connection never reached the engine's pool, so `dispose()` does not know it -- and
    that thread's last step hands a result to the event loop. When the command has
    already failed and `asyncio.run` closed the loop, that step raised "Event loop is
    closed" in the thread, a traceback after the command's one-line error (now and then:
    a race with the thread)."""
    before = set(threading.enumerate())
    with asyncio.Runner() as runner:
        try:
            return runner.run(main)
        finally:
            # The default executor's idle workers (getaddrinfo, to_thread) end only when it
            # shuts down, which asyncio.run does too, after this; so first, here.
            runner.run(runner.get_loop().shutdown_default_executor())
            deadline = time.monotonic() + THREADS_GRACE_SECONDS
            for thread in set(threading.enumerate()) - before:
                thread.join(max(0.0, deadline - time.monotonic()))


def fail(message: str) -> "typer.Exit":
    """One line on stderr; raise the result to exit 2."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def when(at: Optional[datetime]) -> str:
    return "-" if at is None else at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(header: tuple[str, ...], rows: List[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the first column is the one scripts cut."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows])


def log_point(value: Optional[str], name: str) -> "int | datetime | None":
    """A log position (a whole number) or an ISO 8601 time with a zone."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither a log position nor an ISO 8601 time", param_hint=name)
    if at.tzinfo is None:
        raise typer.BadParameter("a time needs a zone, e.g. 2026-11-24T00:00:00+00:00", param_hint=name)
    return at
