"""Recurring exclusions: what a recurring exclusion adds to folding a budget stream, beside
the same stream without one (the floor), in the same run. Pure domain, no database.

    python -m bench.recurring [--days 30] [--repeat 5]

Streams of `--days` of per-minute data (99.9%, rolling 30 days), folded with the budget
decider's own `evolve` as every read path folds them (live projection, rebuild, as-of,
what-if), in two shapes: hourly events (60 intervals each) and one event per minute (a
live exporter's pushes); and the cold load of the folded state from its read-model doc and
interval rows (`BudgetState.from_doc`, a read-cache miss). Each with no recurring exclusion
(the floor), a weekly two-hour window in Europe/Berlin, and the densest rule taken (24
occurrences a day, ten minutes each). The recurring exclusion is recorded before the data
(applied as each interval arrives) and, for the hourly shape, also after it (applied to
everything recorded at once). Prints the median process CPU time of `--repeat` runs (variants in turn) and the ratio
to the floor.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import datetime, timezone

from domain.budget import decider
from domain.budget.instants import US_PER_MINUTE, to_us
from domain.budget.runs import to_runs
from domain.events import RecordedEvent

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T0_US = to_us(T0)
OID = "bench"
RULES = {
    "none": None,
    "weekly": ("FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0", "2025-06-01T02:00", "Europe/Berlin", "2h"),
    "dense": ("FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=5", "2025-06-01T00:00",
              "Europe/Berlin", "10m"),
}


def _event(n: int, kind: str, data: dict) -> RecordedEvent:
    version = decider.OBSERVATIONS_SCHEMA if kind == "ObservationsRecorded" else 1
    return RecordedEvent(event_id=f"e{n}", position=n, stream_id=f"budget-{OID}", stream_version=n, type=kind,
                         schema_version=version, data=data, metadata={}, recorded_at=T0)


def stream(days: int, per_event: int, rule: tuple | None, after: bool) -> list[RecordedEvent]:
    config = {"objective_id": OID, "target": 0.999, "window": {"kind": "rolling", "days": 30},
              "budgeting": {"method": "occurrences"}}
    kinds: list[tuple[str, dict]] = [("BudgetConfigured", config)]
    recur = [] if rule is None else [("RecurringExclusionAdded", {
        "objective_id": OID, "id": "maint", "rrule": rule[0], "start": rule[1], "zone": rule[2], "duration": rule[3],
        "reason": "maintenance", "ended_from": None, "approver": "sam"})]
    if not after:
        kinds += recur
    minutes = days * 1440
    for first in range(0, minutes, per_event):
        ms = range(first, min(first + per_event, minutes))
        kinds.append(("ObservationsRecorded", {"objective_id": OID, "backfill": False, "runs": to_runs(
            [T0_US + m * US_PER_MINUTE for m in ms], [T0_US + (m + 1) * US_PER_MINUTE for m in ms],
            [999 if m % 97 else 990 for m in ms], [1000] * len(ms))}))
    if after:
        kinds += recur
    return [_event(n + 1, k, d) for n, (k, d) in enumerate(kinds)]


def fold(events: list[RecordedEvent]) -> decider.BudgetState:
    state = None
    for e in events:
        state = decider.evolve(state, e)
    state.status()  # what the projection reads after each command, once here
    return state


def timed(fns: dict[str, object], repeat: int) -> dict[str, float]:
    """Median process CPU seconds of each, the variants run in turn (round robin) so that
    a busy machine slows them alike, the garbage collector off while one runs."""
    for fn in fns.values():
        fn()  # warm: the ISO times' parse cache, the expansion's first use
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()  # the garbage of the run before is not this one's cost
            gc.disable()
            started = time.process_time()
            fn()
            runs[name].append(time.process_time() - started)
            gc.enable()
    return {name: statistics.median(r) for name, r in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{args.days} days of per-minute data ({args.days * 1440:,} intervals); median CPU of {args.repeat}")
    print(f"{'shape':<34}{'rule':<8}{'ms':>10}{'x floor':>10}")

    def show(shape: str, fns: dict) -> None:
        got = timed(fns, args.repeat)
        for name, seconds in got.items():
            print(f"{shape:<34}{name:<8}{seconds * 1000:>10.1f}{seconds / got['none']:>10.2f}")

    for shape, per_event, after in (("hourly events, excluded first", 60, False),
                                    ("hourly events, excluded after", 60, True),
                                    ("one event a minute", 1, False)):
        streams = {name: stream(args.days, per_event, rule, after) for name, rule in RULES.items()}
        show(shape, {name: (lambda ev=ev: fold(ev)) for name, ev in streams.items()})
    loads = {}
    for name, rule in RULES.items():
        state = fold(stream(args.days, 60, rule, False))
        doc, rows = state.to_doc(), list(zip(*state.ledger.columns()))
        loads[name] = lambda doc=doc, rows=rows: decider.BudgetState.from_doc(doc, rows).status()
    show("cold load (from_doc + status)", loads)


if __name__ == "__main__":
    main()
