"""Signing checkpoints of the log: on demand (`slogov audit checkpoint`) and on a schedule
in the server (`CheckpointSchedule`, every `settings.checkpoint_interval` seconds while
the head moves). The key file (`settings.checkpoint_key`) is read off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from eventstore.log_checkpoints import Checkpoint, NotSigned, published, published_count, sign_head
from eventstore.signing_key import KeyFileError, load_key, load_or_create_key, public_hex, public_pem

logger = logging.getLogger("slogov.checkpoints")

__all__ = ["CheckpointSchedule", "checkpoint_now", "checkpoint_page", "public_pem", "published_key"]


async def checkpoint_now(container: Any) -> Checkpoint | None:
    """Sign the log's head (creating the key file on first use); None while the log is empty.
    Raises NotSigned (the log no longer extends the last checkpoint) or KeyFileError."""
    key = await asyncio.to_thread(load_or_create_key, container.settings.checkpoint_key)
    return await sign_head(container.engines, key, datetime.now(timezone.utc))


async def published_key(container: Any) -> str | None:
    """The public key (hex) of the configured key file, or None before it exists."""
    try:
        key = await asyncio.to_thread(load_key, container.settings.checkpoint_key)
    except KeyFileError:
        return None
    return public_hex(key)


async def checkpoint_page(container: Any, after: int, first: int) -> tuple[list[Checkpoint], bool, int]:
    """Published checkpoints after position `after`, oldest first: (page, more follow, total)."""
    found = await published(container.engines, after, first + 1)
    return found[:first], len(found) > first, await published_count(container.engines)


class CheckpointSchedule:
    """A background task that signs the head every `interval` seconds (if it moved).

    Each round awaits the database and the key file's thread, so the loop keeps serving
    requests meanwhile. With several server processes each signs; a checkpoint per
    position is stored once (the first), the others return it.
    """

    def __init__(self, container: Any, interval: float) -> None:
        self.container = container
        self.interval = interval
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="log-checkpoints")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await checkpoint_now(self.container)
            except NotSigned as exc:
                logger.error("checkpoint not signed: %s", exc)
            except Exception:  # keep the schedule alive: the next round may succeed
                logger.exception("checkpoint failed")
            await asyncio.sleep(self.interval)
