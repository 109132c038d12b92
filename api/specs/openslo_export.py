"""The neutral model rendered as OpenSLO v1: one multi-document YAML text, deterministic.

The same SpecSet and provenance always give the same bytes: documents go in a fixed kind
order (DataSource, Service, SLI, AlertNotificationTarget, AlertCondition, AlertPolicy,
SLO: what is referred to before what refers to it), by name within a kind; every mapping's
keys in a fixed order (free-form `spec` blocks and labels sorted); no line folding. Inline
objects are written as their own documents and referred to by name (the model's normal
form), so reading an export back gives an equal SpecSet, and rendering that gives the
same bytes.

Provenance: the export of slogov's state at a log position carries, in every document's
annotations, that position and its chain hash (`slogov/log-position`,
`slogov/chain-hash`), and on each SLO the agreement of each objective
(`slogov/agreement-id`: `objective=agreement` pairs, in objective order) and the version
of the error-budget policy formalised with it (`slogov/policy-version`). Anyone holding
the audit log can check a file against it: recompute the chain to that position and
compare the hash. Provenance keys override annotations of the same name read from a file,
so an export re-imported and exported at another position shows the new position.

Where OpenSLO v1 has no field, an annotation carries the value and the reader takes it
back: objective labels (v2alpha has them) in the SLO's `slogov/objective-labels`, a
condition's multiwindow short window in `slogov/short-window`.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import yaml

from domain.specs.model import (
    AlertCondition,
    AlertPolicy,
    DataSource,
    Labels,
    Meta,
    MetricSource,
    NotificationTarget,
    Objective,
    Provenance,
    Service,
    Sli,
    Slo,
    SpecSet,
    TimeWindow,
)
from .openslo import OBJECTIVE_LABELS, SHORT_WINDOW, V1

POSITION = "slogov/log-position"
CHAIN_HASH = "slogov/chain-hash"
AGREEMENT = "slogov/agreement-id"
POLICY_VERSION = "slogov/policy-version"


def render(specs: SpecSet, provenance: Provenance | None = None) -> str:
    docs: list[dict[str, Any]] = []
    docs += [_doc("DataSource", s.meta, _data_source(s), provenance) for s in specs.data_sources]
    docs += [_doc("Service", s.meta, _service(s), provenance) for s in specs.services]
    docs += [_doc("SLI", s.meta, _sli(s), provenance) for s in specs.slis]
    docs += [_doc("AlertNotificationTarget", t.meta, _target(t), provenance) for t in specs.notification_targets]
    docs += [_doc("AlertCondition", c.meta, _condition(c), provenance, _short_window(c)) for c in specs.alert_conditions]
    docs += [_doc("AlertPolicy", p.meta, _policy(p), provenance) for p in specs.alert_policies]
    docs += [_doc("SLO", s.meta, _slo(s), provenance, {**_objective_labels(s), **_slo_provenance(s, provenance)})
             for s in specs.slos]
    if not docs:
        return ""
    return yaml.safe_dump_all(docs, explicit_start=True, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, width=2**31 - 1)


def _doc(kind: str, meta: Meta, spec: dict[str, Any], provenance: Provenance | None,
         extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    annotations = dict(meta.annotations)
    annotations.update(extra or {})
    if provenance is not None:
        annotations[POSITION] = str(provenance.position)
        annotations[CHAIN_HASH] = provenance.chain_hash
    metadata: dict[str, Any] = {"name": meta.name}
    _put(metadata, "displayName", meta.display_name)
    if meta.labels:
        metadata["labels"] = _labels(meta.labels)
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {"apiVersion": V1, "kind": kind, "metadata": metadata, "spec": spec}


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _labels(labels: Labels) -> dict[str, Any]:
    return {k: values[0] if len(values) == 1 else list(values) for k, values in labels}


def _data_source(s: DataSource) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", s.description)
    spec["type"] = s.type
    if s.url is not None:
        spec["connectionDetails"] = {"url": s.url}
    return spec


def _service(s: Service) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", s.description)
    return spec


def _metric(m: MetricSource) -> dict[str, Any]:
    source: dict[str, Any] = {}
    _put(source, "metricSourceRef", m.source_ref)
    _put(source, "type", m.type)
    source["spec"] = m.spec.to_plain()
    return {"metricSource": source}


def _sli(s: Sli) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", s.description)
    if s.threshold is not None:
        spec["thresholdMetric"] = _metric(s.threshold)
    if s.ratio is not None:
        ratio: dict[str, Any] = {}
        _put(ratio, "counter", s.ratio.counter)
        for part, source in s.ratio.sources():
            ratio[part] = _metric(source)
        _put(ratio, "rawType", s.ratio.raw_type)
        spec["ratioMetric"] = ratio
    return spec


def _window(w: TimeWindow) -> dict[str, Any]:
    if w.rolling:
        return {"duration": str(w.duration), "isRolling": True}
    assert w.start is not None
    return {"duration": str(w.duration), "calendar": {"startTime": w.start.isoformat(sep=" "), "timeZone": w.zone},
            "isRolling": False}


def _objective(o: Objective) -> dict[str, Any]:
    out: dict[str, Any] = {"displayName": o.name}
    _put(out, "op", o.op)
    _put(out, "value", o.value)
    out["target"] = o.target
    _put(out, "timeSliceTarget", o.time_slice_target)
    _put(out, "timeSliceWindow", str(o.time_slice_window) if o.time_slice_window is not None else None)
    _put(out, "indicatorRef", o.sli_ref)
    _put(out, "compositeWeight", o.composite_weight)
    return out


def _slo(s: Slo) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", s.description)
    spec["service"] = s.service
    _put(spec, "indicatorRef", s.sli_ref)
    if s.window is not None:
        spec["timeWindow"] = [_window(s.window)]
    spec["budgetingMethod"] = s.budgeting
    spec["objectives"] = [_objective(o) for o in s.objectives]
    if s.alert_policies:
        spec["alertPolicies"] = [{"alertPolicyRef": name} for name in s.alert_policies]
    return spec


def _objective_labels(s: Slo) -> dict[str, str]:
    labels = {o.name: {k: list(v) for k, v in o.labels} for o in s.objectives if o.labels}
    if not labels:
        return {}
    return {OBJECTIVE_LABELS: json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)}


def _slo_provenance(s: Slo, provenance: Provenance | None) -> dict[str, str]:
    found = provenance.slos.get(s.meta.name) if provenance is not None else None
    if found is None:
        return {}
    out = {}
    if found.agreements:
        out[AGREEMENT] = ",".join(f"{objective}={agreement}" for objective, agreement in found.agreements)
    if found.policy_version is not None:
        out[POLICY_VERSION] = str(found.policy_version)
    return out


def _policy(p: AlertPolicy) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", p.description)
    spec["alertWhenBreaching"] = p.when_breaching
    spec["alertWhenResolved"] = p.when_resolved
    spec["alertWhenNoData"] = p.when_no_data
    spec["conditions"] = [{"conditionRef": name} for name in p.conditions]
    spec["notificationTargets"] = [{"targetRef": name} for name in p.targets]
    return spec


def _condition(c: AlertCondition) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", c.description)
    spec["severity"] = c.severity
    spec["condition"] = {
        "kind": "burnrate",
        "op": c.op,
        "threshold": c.threshold,
        "lookbackWindow": str(c.lookback),
        "alertAfter": str(c.alert_after) if c.alert_after is not None else "0m",
    }
    return spec


def _short_window(c: AlertCondition) -> dict[str, str]:
    return {SHORT_WINDOW: str(c.short_window)} if c.short_window is not None else {}


def _target(t: NotificationTarget) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", t.description)
    spec["target"] = t.target
    return spec
