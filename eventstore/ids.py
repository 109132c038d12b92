"""Time-ordered (version 7, RFC 9562) UUIDs for event, command, correlation and request ids.

Event ids, and the correlation and causation ids that are command or event ids, are keys
of B-tree indexes written on every append (the log's unique event_id, the audit index's
event_id, correlation_id and causation_id). A random key lands on a random leaf page, so
each row dirties a page of its own; a key that grows with time lands at the right edge,
beside the one before. On a 1,000-objective collection round this took the audit index's
insert on SQLite from ~21 ms to ~6.5 ms and the log's from ~8 ms to ~5 ms.

Layout (method 3 of RFC 9562): 48 bits of Unix milliseconds, the version, 12 bits of
sub-millisecond fraction, the variant, 62 random bits. Nothing reads the time back (ids
stay opaque; the log's order is its positions): it only keeps inserts local. The random
bits are drawn from a buffer of the kernel's random bytes, refilled 4 KiB at a time
(one system call per id was 4% of the server's CPU per recorded deploy decision on a
sandboxed host).
"""

from __future__ import annotations

import os
import time

_REFILL = 4096
_RANDOM = (1 << 62) - 1
_VARIANT = 0b10 << 62  # RFC 4122/9562
# The random low 64 bits of ids to come, variant set. list.pop is atomic, so threads
# never share one; two that find it empty both refill, harmlessly.
_pool: list[int] = []


def _refill() -> None:
    global _pool
    buf = os.urandom(_REFILL)
    _pool = [int.from_bytes(buf[i:i + 8], "big") & _RANDOM | _VARIANT for i in range(0, _REFILL, 8)]


def _forget_pool() -> None:
    # A forked child must not draw the parent's remaining bits: both would then mint the
    # same ids in any millisecond fraction they share.
    _pool.clear()


os.register_at_fork(after_in_child=_forget_pool)


def new_id() -> str:
    """A time-ordered UUID (version 7) as its canonical 36-character string."""
    ns = time.time_ns()
    try:
        low = _pool.pop()
    except IndexError:
        _refill()
        low = _pool.pop()
    ms, sub = divmod(ns, 1_000_000)
    t, r = f"{ms:012x}", f"{low:016x}"
    return f"{t[:8]}-{t[8:]}-7{sub * 4096 // 1_000_000:03x}-{r[:4]}-{r[4:]}"
