"""The log's state as a SpecSet: what an export renders (pure; mapping.py says how).

Each included objective becomes an objective of its SLO (the SLO it was drafted in, else
the one its id names, `<slo>__<x>` or `<slo>`), on the Service of its journey, with its
journey's labels; labels all of an SLO's objectives share are the SLO's, the others the
objective's own; the first objective's annotations are the SLO's; the SLI is written as pushed counts (`type:
slogov`) of its kind, one per SLO when its objectives share it, else one per objective;
the alert tiers configured on the first objective's budget become the SLO's alert
conditions and policies, one policy per tier naming the AlertNotificationTargets the first
objective routes that tier to (a target's name taken by another SLO's different target is
written with the SLO's name after it). What is agreed is exported with the agreed target; with
`include_drafts`, objectives under negotiation too, with the open proposal's target
(an objective with neither is left out: OpenSLO has no SLO without a target).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from domain.budget.burn import parse_tiers
from domain.monitoring import tier_key
from domain.journey import JourneyState
from domain.objective import ObjectiveState

from . import mapping
from .model import (AlertPolicy, DataSource, Meta, MetricSource, NotificationTarget, Params, RatioMetric, Objective,
                    Service, Sli, Slo, SloProvenance, SpecSet)


def target_of(state: ObjectiveState, include_drafts: bool) -> float | None:
    if state.retired:
        return None
    if include_drafts and state.open_proposal is not None:
        return state.open_proposal.target
    return state.agreed_target


def specs_of(
    journeys: Mapping[str, JourneyState],
    objectives: Iterable[ObjectiveState],
    tiers: Mapping[str, list[dict[str, Any]] | None],
    *,
    include_drafts: bool = False,
    sources: Mapping[str, Any] | None = None,
) -> tuple[SpecSet, dict[str, SloProvenance]]:
    """(the SpecSet, per SLO the agreements it carries)."""
    groups: dict[str, list[tuple[ObjectiveState, float]]] = {}
    for state in sorted(objectives, key=lambda s: s.id):
        target = target_of(state, include_drafts)
        if target is not None:
            groups.setdefault(state.slo or mapping.slo_name(state.id), []).append((state, target))
    slos, slis, conditions, policies = [], [], {}, {}
    targets: dict[str, NotificationTarget] = {}  # the notification targets the policies name, by name
    used: set[str] = set()  # data sources the SLIs read
    provenance: dict[str, SloProvenance] = {}
    services: set[str] = set()
    for name, members in sorted(groups.items()):
        first = members[0][0]
        shared = len({(s.sli.kind, s.sli.threshold_ms, s.sli.metric, s.sli.threshold, s.sli.threshold_seconds,
                       repr(_queries(s))) for s, _ in members}) == 1
        common = set(members[0][0].labels).intersection(*(set(s.labels) for s, _ in members))
        slo_labels = tuple(sorted(common))
        objectives_: list[Objective] = []
        for state, target in members:
            method, slice_target, slice_window = mapping.budgeting_fields(state.budgeting)
            own_sli = None
            if not shared:
                own_sli = state.id
                slis.append(Sli(Meta(state.id), ratio=_ratio(state, used)))
            own_labels = tuple(x for x in state.labels if x not in common)
            objectives_.append(Objective(name=state.name, target=target, time_slice_target=slice_target,
                                         time_slice_window=slice_window, sli_ref=own_sli,
                                         composite_weight=state.composite_weight,
                                         labels=mapping.spec_labels(own_labels)))
        if shared:
            slis.append(Sli(Meta(name), ratio=_ratio(first, used)))
        policy_names: list[str] = []
        for tier in parse_tiers(tiers.get(first.id)) if tiers.get(first.id) is not None else ():
            condition = mapping.tier_condition(name, tier)
            conditions[condition.meta.name] = condition
            routed = tuple(sorted(_target_name(targets, t, name) for t in first.notification_targets(tier_key(tier))))
            policies[condition.meta.name] = AlertPolicy(Meta(condition.meta.name), conditions=(condition.meta.name,),
                                                        targets=routed)
            policy_names.append(condition.meta.name)
        services.add(first.journey_id)
        slos.append(Slo(
            Meta(name, labels=mapping.spec_labels(slo_labels), annotations=mapping.spec_annotations(first.annotations)),
            service=first.journey_id, sli_ref=name if shared else None,
            budgeting=mapping.budgeting_fields(first.budgeting)[0], objectives=tuple(objectives_),
            window=mapping.time_window(first.window), description=first.sli.description,
            alert_policies=tuple(sorted(set(policy_names)))))
        agreements = tuple((s.name, s.agreed_proposal_id) for s, t in members
                           if s.agreed_proposal_id is not None and s.agreed_target == t)
        versions = {s.agreement.policy_version for s, _ in members if s.agreement is not None}
        provenance[name] = SloProvenance(agreements, versions.pop() if len(versions) == 1 else None)
    service_objects = tuple(
        Service(Meta(j, display_name=journeys[j].name if journeys[j].name != j else None,
                     labels=mapping.spec_labels(journeys[j].labels)), journeys[j].description)
        for j in sorted(services) if j in journeys)
    data_sources = tuple(DataSource(Meta(n), "Prometheus", url=(sources or {})[n].url)
                         for n in sorted(used) if n in (sources or {}))
    specs = SpecSet(
        data_sources=data_sources,
        services=service_objects,
        slis=tuple(sorted(slis, key=lambda s: s.meta.name)),
        slos=tuple(slos),
        alert_conditions=tuple(conditions[k] for k in sorted(conditions)),
        alert_policies=tuple(policies[k] for k in sorted(policies)),
        notification_targets=tuple(targets[k] for k in sorted(targets)),
    )
    return specs, provenance


def _target_name(targets: dict[str, NotificationTarget], target: Any, slo: str) -> str:
    """The name `target` (an objective's) is written under: its own, unless another SLO's
    target of that name says otherwise; then the name with the SLO's after it."""
    ours = NotificationTarget(Meta(target.name, display_name=target.display_name), target.target, target.description)
    for name in (target.name, f"{target.name}-{slo}"):
        if targets.setdefault(name, replace_name(ours, name)) == replace_name(ours, name):
            return name
    raise ValueError(f"notification target {target.name} of SLO {slo} is written twice, differently")


def replace_name(target: NotificationTarget, name: str) -> NotificationTarget:
    return NotificationTarget(Meta(name, display_name=target.meta.display_name), target.target, target.description)


def _queries(state: ObjectiveState) -> dict[str, Any] | None:
    """A ratio SLI definition's source and counters; None otherwise (latency definitions and
    none are written as pushed counts of the objective's SLI kind)."""
    q = state.sli_definition
    if q is None or q.kind != "ratio":
        return None
    return {"source": q.source, "good": q.good, "bad": q.bad, "total": q.total}


def _ratio(state: ObjectiveState, used: set[str]) -> RatioMetric:
    queries = _queries(state)
    if queries is None:
        return mapping.pushed_ratio(state.sli)
    used.add(queries["source"])

    def part(name: str) -> MetricSource | None:
        expr = queries[name]
        return None if expr is None else MetricSource(queries["source"], "Prometheus", Params.of({"query": expr}))

    return RatioMetric(good=part("good"), bad=part("bad"), total=part("total"))
