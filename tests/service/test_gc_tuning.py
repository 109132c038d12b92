"""The composition root tunes the cyclic collector (see service/gc_tuning.py)."""

from __future__ import annotations

import gc

from service.gc_tuning import THRESHOLDS


async def test_startup_freezes_what_it_built_and_raises_the_collector_thresholds(container):
    # The container fixture has run startup(): the collector must no longer rescan startup's
    # objects nor run every 700 allocations (both cost ingest an eighth of its CPU).
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()
