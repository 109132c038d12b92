"""Schema changes to recorded events, as pure functions from old data to new.

Each entry upgrades (event type, schema version N) to version N + 1; the store
applies them in a chain on read, and deciders and projections only ever see
the current shape. Stored events are never rewritten. Add an entry here, and
bump the version deciders emit, whenever an event's data changes shape.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from domain.budget.instants import isos_us
from domain.budget.runs import to_runs

Step = Callable[[Mapping[str, Any]], dict[str, Any]]



def _deploy_evaluated_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    # Version 1 did not record who may approve a REQUIRE_APPROVAL answer: unknown.
    return {**data, "approver_roles": None}


def _deploy_evaluated_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    # Version 2 judged every service, known or not, by the objectives on it: no
    # suggestions were made (None: the decision predates judging unknown services).
    return {**data, "suggestions": None}


def _observations_recorded_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    # Version 1 had no backfill marker: every batch was pushed live.
    return {**data, "backfill": False}


def _observations_recorded_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    # Version 2 held each interval as an object {"start", "end", "good", "total"}: the same
    # intervals, in the same order, as runs (domain/budget/runs.py).
    intervals = data["intervals"]
    start_texts = [iv["start"] for iv in intervals]
    end_texts = [iv["end"] for iv in intervals]
    ends = isos_us(end_texts)
    # Back to back (per-minute data, nearly always): each start is the end before it.
    starts = [*isos_us(start_texts[:1]), *ends[:-1]] if start_texts[1:] == end_texts[:-1] else isos_us(start_texts)
    runs = to_runs(starts, ends, [iv["good"] for iv in intervals], [iv["total"] for iv in intervals])
    return {**{k: v for k, v in data.items() if k != "intervals"}, "runs": runs}


def _baseline_recorded_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    # Version 1 was a typed-in period total: no per-minute analysis.
    return {**data, "analysis": None}


def _agreement_formalized_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    # Version 1 named no runbooks: none (generated alerts wait until an agreement names them).
    return {**data, "runbooks": {}}


# (event type, from schema version, step).
UPCASTERS: tuple[tuple[str, int, Step], ...] = (
    ("DeployEvaluated", 1, _deploy_evaluated_v1),
    ("DeployEvaluated", 2, _deploy_evaluated_v2),
    ("AgreementFormalized", 1, _agreement_formalized_v1),
    ("ObservationsRecorded", 1, _observations_recorded_v1),
    ("ObservationsRecorded", 2, _observations_recorded_v2),
    ("BaselineRecorded", 1, _baseline_recorded_v1),
)
