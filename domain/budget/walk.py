"""Transitions in data time: a batch is judged at every instant its data reaches.

A batch is a transport detail. Sixty minutes sent in one request must derive the same
transitions, at the same times, as sixty one-minute requests; so the ledger is judged at
each interval end a batch adds (`judgement_points`), in time order, and a transition is
stamped with the instant it happened at. `Ledger.steady` first tries to prove, by
bounds over the batch's span, that no flag can flip (healthy minutes: a few bisections
for the whole batch); otherwise the walk costs one `Ledger.judge_at_us` per point (a few
bisections over the prefix sums; one instant: `Ledger.figures_at_us`, which the read model
then shows), and a full `Status` is built only where a flag flips, for the transition's
details.

Data behind the stream's event time (late data, a backfill after a freshness probe moved
the event time on) is judged once, at that event time: the instants it belongs to have
been judged already, so it counts from "now" on, as it would in a request of its own.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, NamedTuple

from .ledger import Ledger
from .runs import observation_columns
from .status import Status
from .transitions import DerivedFlags, Transition, transitions


class Step(NamedTuple):
    """The transitions found at one instant, with the status they were read from."""

    status: Status
    transitions: list[Transition]


def judgement_points(ledger: Ledger, event_type: str, data: Mapping[str, Any], event_time_us: int,
                     checked_at_us: int | None) -> list[int]:
    """The instants (microseconds, ascending) a budget data event is judged at: each end an
    ObservationsRecorded adds past the previous event time (one instant per interval, as if
    each came alone), the previous event time for any it adds behind it; every other data
    event (a correction, an exclusion, a configuration, a freshness check) at the event time."""
    if event_type != "ObservationsRecorded":
        return [event_time_us]
    last, ends = ledger.added_ends(observation_columns(data)[0])
    before = checked_at_us if last is None or (checked_at_us is not None and checked_at_us > last) else last
    if before is None or before < ends[0]:
        return ends
    return sorted({end if end > before else before for end in ends})


def _fires(alerts, keys: tuple) -> bool:
    """Whether `alerts` (Alerts or AlertTiers, keys unique) are the tiers keyed `keys`, in
    any order. Alerts are raised in tier order, so the keys nearly always come in the same
    order: a tuple comparison then answers, without building sets."""
    if len(alerts) != len(keys):
        return False
    now = tuple([a.key for a in alerts])
    return now == keys or frozenset(now) == frozenset(keys)


def walk(ledger: Ledger, flags: DerivedFlags, points: Iterable[int]) -> list[Step]:
    """The transitions at each of `points` (ascending), from `flags` on: one Step per
    instant where a flag flips, each judged on the data ended by then."""
    steps: list[Step] = []
    exhausted, keys, stale = flags.exhausted, tuple([a.key for a in flags.alerts]), flags.stale
    points = list(points)
    # One instant (a live push): its figures, which the read model then reads from the
    # ledger's memo; more: try to prove the batch steady before judging each instant.
    one = len(points) == 1
    if not one and ledger.steady(points, exhausted, frozenset(keys), stale):
        return steps
    for at_us in points:
        j = ledger.figures_at_us(at_us) if one else ledger.judge_at_us(at_us)
        if j.exhausted == exhausted and j.stale == stale and _fires(j.alerts, keys):
            continue
        # A flag flips: the full status, for the transition's details.
        status = ledger.status_at_us(at_us)
        if status.exhausted == exhausted and status.stale == stale and _fires(status.alerts, keys):
            continue
        steps.append(Step(status, transitions(flags, status)))
        flags = DerivedFlags(status.exhausted, status.alerts, status.stale)
        exhausted, keys, stale = status.exhausted, tuple([a.key for a in status.alerts]), status.stale
    return steps
