"""Policy what-if over the recorded history: the log read once, up to one position, and
judged by the pure `policies.whatif.PolicyWhatIf` with the candidate in force. Reads only:
nothing is appended, and the same position gives the same answer (the result names it).

It reads the whole log, so it takes the long-read slot (service/long_reads.py) and hands
the event loop back every `SLICE` events, like a replay's fold.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import select

from domain import objective as objective_domain
from domain import policy as policy_domain
from domain.commands import require_id
from eventstore.pacing import SLICE
from eventstore.reader import decode_rows, paused_gc, read_log
from eventstore.tables import events as events_table
from policies.language import Policy, parse_policy
from policies.loader import parse_yaml
from policies.whatif import Action, Judged, PolicyOutcome, PolicyWhatIf
from policies.whatif_tiers import check_candidate_fits, may_change_tiers
from service.whatif import period

PROGRESS_EVERY = 50_000  # events


@dataclass(frozen=True)
class PolicyWhatIfResult:
    policy_id: str
    candidate_version: int  # the version adopting the candidate would make
    start: datetime
    end: datetime
    position: int           # the log position the history was read up to
    outcome: PolicyOutcome


def parse_candidate(document: str | Mapping[str, Any]) -> Policy:
    """A policy document as `adoptPolicy` takes it: YAML text or a mapping."""
    return parse_yaml(document) if isinstance(document, str) else parse_policy(document)


async def policy_whatif_of(
    container: Any, document: str | Mapping[str, Any], start: datetime, end: datetime, *,
    objective_ids: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None,
) -> PolicyWhatIfResult:
    """Every deploy decision recorded with its time in [start, end) judged again with the
    candidate in force, and the freezes, escalations and postmortems it would have started."""
    candidate = parse_candidate(document)
    start, end = period(start, end)
    if objective_ids is not None:
        objective_ids = [require_id(o, "objective_ids") for o in objective_ids]
    store = container.store
    async with container.long_reads.slot("whatif-policy"):
        async with container.read_engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                position, _ = await store.head(conn)
                if candidate.alert_tiers is not None:  # a misfitting tier is refused before the run
                    check_candidate_fits(candidate, await _governable_windows(store, conn, position, candidate.id,
                                                                              objective_ids))
                policy_events = await store.read_stream(policy_domain.stream_id(candidate.id),
                                                        until_position=position, conn=conn)
                with paused_gc():  # from the decisions on: all of it is kept until the answer
                    rows = (await conn.execute(
                        select(events_table).where(events_table.c.type == "DeployEvaluated",
                                                   events_table.c.position <= position)
                        .order_by(events_table.c.position)
                    )).all()
                    decisions = decode_rows(store, rows)
                    del rows
                    version = (policy_events[-1].data["version"] if policy_events else 0) + 1
                    policy_state = None
                    for e in policy_events:
                        policy_state = policy_domain.evolve(policy_state, e)
                    run = PolicyWhatIf(candidate, version, decisions, start, end, objective_ids,
                                       retier=may_change_tiers(candidate, policy_state, objective_ids))
                    told = 0
                    async for events in read_log(store, until=position, conn=conn, hashes=False, chunk=SLICE,
                                                  lazy_metadata=True):
                        run.feed(events)
                        await asyncio.sleep(0)  # let other requests in (eventstore/pacing.py)
                        if progress is not None and run.events - told >= PROGRESS_EVERY:
                            progress(run.events, position)
                            told = run.events
                    outcome = run.finish()
    if progress is not None:
        progress(run.events, position)
    return PolicyWhatIfResult(candidate.id, version, start, end, position, outcome)


async def _governable_windows(store: Any, conn: Any, position: int, policy_id: str,
                              objective_ids: Sequence[str] | None) -> dict[str, Any]:
    """The budget windows of the objectives the candidate may govern in the run (objective
    id -> window): those with an agreement up to `position` that pinned its id at any time
    (or, with `objective_ids`, those of them with any agreement), as `PolicyWhatIf` chooses.
    Two reads by event type (indexed): the agreements, then the drafts, which fix the window
    (one row per objective, filtered here rather than in an IN list that could outgrow a
    statement's parameters)."""
    def of_type(name: str) -> Any:
        return select(events_table).where(events_table.c.type == name, events_table.c.position <= position)

    scope = None if objective_ids is None else set(objective_ids)
    governable = {e.data["objective_id"] for e in decode_rows(store, (await conn.execute(
        of_type("AgreementFormalized"))).all())
        if (e.data["policy_id"] == policy_id if scope is None else e.data["objective_id"] in scope)}
    if not governable:
        return {}
    streams = {objective_domain.stream_id(o) for o in governable}
    rows = [r for r in (await conn.execute(of_type("ObjectiveDrafted"))).all() if r.stream_id in streams]
    return {obj.id: obj.window.budget_window()
            for obj in (objective_domain.evolve(None, e) for e in decode_rows(store, rows))}


# --------------------------------------------------------------------------- JSON


def _action_dict(a: Action) -> dict[str, Any]:
    return {"objective_id": a.objective_id, "type": a.type, "id": a.action_id, "rule_id": a.rule_id, "at": a.at,
            "reason": a.reason, "policy": a.policy}


def _judged_dict(j: Judged) -> dict[str, Any]:
    r, w = j.recorded, j.what_if
    return {
        "pipeline_run_id": r.pipeline_run_id, "service": r.service, "change_type": r.change_type,
        "version": r.version_label, "at": r.at, "evaluated_at_position": r.evaluated_at_position,
        "position": j.position,
        "recorded": {"outcome": r.outcome, "reasons": list(r.reasons), "rule_ids": list(r.rule_ids),
                     "policy_versions": list(r.policy_versions)},
        "what_if": {"outcome": w.outcome, "reasons": list(w.reasons), "rule_ids": list(w.rule_ids),
                    "policy_versions": list(w.policy_versions)},
    }


def summary(r: PolicyWhatIfResult) -> dict[str, Any]:
    """The counts a reader (or a proposal's evidence) needs at a glance."""
    o = r.outcome
    changed = o.changed
    count = lambda actions, kind: sum(1 for a in actions if a.type == kind)  # noqa: E731
    return {
        "decisions": len(o.judged),
        "changed": len(changed),
        "allow_to_deny": sum(1 for j in changed if j.recorded.outcome == "ALLOW" and j.what_if.outcome == "DENY"),
        "deny_to_allow": sum(1 for j in changed if j.recorded.outcome == "DENY" and j.what_if.outcome == "ALLOW"),
        "affected_objectives": len(o.affected),
        "alerts_raised": {"actual": sum(1 for a in o.alerts for m in a.actual if m.type == "BurnRateAlertRaised"),
                          "what_if": sum(1 for a in o.alerts for m in a.what_if if m.type == "BurnRateAlertRaised")},
        "freezes": {"actual": count(o.actual, "FreezeStarted"), "what_if": count(o.what_if, "FreezeStarted")},
        "escalations": {"actual": count(o.actual, "EscalationRaised"), "what_if": count(o.what_if, "EscalationRaised")},
        "postmortems": {"actual": count(o.actual, "PostmortemRequired"),
                        "what_if": count(o.what_if, "PostmortemRequired")},
    }


def to_dict(r: PolicyWhatIfResult) -> dict[str, Any]:
    """JSON-safe: the inputs, the summary, the changed decisions and both sets of actions."""
    o = r.outcome
    return {
        "policy_id": r.policy_id, "candidate_version": r.candidate_version, "from": r.start.isoformat(),
        "to": r.end.isoformat(), "position": r.position, "events": o.events,
        "summary": summary(r),
        "affected_objectives": list(o.affected),
        "tiers_differ": list(o.tiers_differ),
        "alerts": [{"objective_id": a.objective_id, "since_position": a.since_position,
                    "actual": [{"type": m.type, **m.data} for m in a.actual],
                    "what_if": [{"type": m.type, **m.data} for m in a.what_if]} for a in o.alerts],
        "changed": [_judged_dict(j) for j in o.changed],
        "actions": {
            "actual": [_action_dict(a) for a in o.actual],
            "what_if": [_action_dict(a) for a in o.what_if],
            "only_actual": [_action_dict(a) for a in o.only_actual],
            "only_what_if": [_action_dict(a) for a in o.only_what_if],
        },
    }
