"""The cyclic garbage collector, tuned once per process at the composition root.

A server keeps many long-lived objects: imported modules and the schema at startup, then
warm aggregate states (a budget ledger per objective) in the bus's state cache. With
CPython's default thresholds (700, 10, 10) the collector runs every 700 net allocations and
its older generations rescan all of those objects again and again; under ingest that cost
about an eighth of the CPU per event. So at startup everything alive is frozen (moved out
of the collector's sight; reference counting still frees it) and the young generation is
collected every 10,000 allocations instead, the middle one every 20 of those.

Why not larger: a GraphQL request leaves ~120 objects in reference cycles (strawberry's
and Starlette's per-request objects), which only the collector frees. At 50,000 a young
collection freed ~40,000 of them at once, a 30-80 ms pause that set the p99 of every
request in flight (evaluateDeploy: p99 34-41 ms, against 17-20 ms at 10,000, same
throughput; ingest within noise: bench/README.md).
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 10)

_tuned = False


def tune_gc() -> None:
    """Freeze what startup built and raise the thresholds; once per process."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
