"""Generated monitoring: Prometheus recording and alerting rules for agreed objectives.

A pure function of what was agreed at one log position (the objective, its SLI
definition, its alert tiers and the runbook of each, the owner, the team labels, the
agreement) -> Prometheus rule groups as plain data; the same input always gives the
same output, and the output names the position it was generated at.

Per objective, one group (records first: a group evaluates its rules in order):
- a recording rule per window the tiers use, `<prefix>:sli_error:ratio_rate<window>`,
  the share of bad events over that window, labelled with journey and objective;
- the target, `<prefix>:objective:target`, for dashboards;
- per tier, an alert firing while the error ratio over BOTH its long and short
  window exceeds `threshold x (1 - target)` (SRE workbook, ch. 5: multiwindow,
  multi-burn-rate). `WORKBOOK_TIERS` are the workbook's four: 14.4x 1h/5m and 6x
  6h/30m page, 3x 1d/2h and 1x 3d/6h ticket.

Names follow a `NamingConvention` the organisation sets; `check_names` is the check
a draft runs so that the ids and labels will make valid, filterable rules.

`alertmanager_routes` is the other half: Alertmanager routing for those alerts, one
route per escalation path the agreements name (the objectives under it matched by
their objective label, a child route per severity their tiers use) and a receiver per
path and severity, with the agreements, owners, team labels and tiers behind each
route as provenance notes; and `inhibit_rules`, which mute an objective's tickets while one
of its pages fires.
Standard library only (YAML is written at the edge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

from domain.budget.burn import PAGE, TICKET, AlertTier
from domain.budget.instants import parse_duration
from domain.errors import InvalidInput
from domain.promql import LABEL_NAME, METRIC_NAME, quote
from domain.sli_definition import SLIDefinition, error_ratio

WORKBOOK_TIERS: tuple[AlertTier, ...] = (
    AlertTier(PAGE, "1h", "5m", 14.4),
    AlertTier(PAGE, "6h", "30m", 6.0),
    AlertTier(TICKET, "1d", "2h", 3.0),
    AlertTier(TICKET, "3d", "6h", 1.0),
)
_TEMPLATE_FIELD = re.compile(r"\{([a-zA-Z_]+)\}")
_ALERT_FIELDS = {"journey", "objective", "severity", "Severity"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True, slots=True)
class NamingConvention:
    """How generated names look, and what a draft must satisfy.

    recording_prefix  records are `<prefix>:sli_error:ratio_rate5m`, `<prefix>:objective:target`
    alert_name        template over {journey} {objective} {severity} {Severity}; ids have
                      characters outside [A-Za-z0-9_] replaced by `_`
    label_prefix      generated labels: `<p>journey`, `<p>objective`, `<p>owner`, `<p>tier`,
                      and `severity` (Alertmanager's usual routing label) unprefixed
    id_pattern        journey and objective ids must match it in full
    required_labels   team labels every objective must carry (e.g. team, cost_center)
    """

    recording_prefix: str = "slogov"
    alert_name: str = "ErrorBudgetBurn{Severity}"
    label_prefix: str = "slo_"
    id_pattern: str = r"[a-z0-9][a-z0-9-]{0,62}"
    required_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not METRIC_NAME.fullmatch(self.recording_prefix):
            raise InvalidInput(f"naming.recording_prefix: {self.recording_prefix!r} cannot start a metric name", field="naming.recording_prefix")
        unknown = set(_TEMPLATE_FIELD.findall(self.alert_name)) - _ALERT_FIELDS
        if unknown:
            raise InvalidInput(f"naming.alert_name: unknown field {{{sorted(unknown)[0]}}} (use {{journey}}, {{objective}}, {{severity}}, {{Severity}})", field="naming.alert_name")
        if not METRIC_NAME.fullmatch(_TEMPLATE_FIELD.sub("x", self.alert_name)):
            raise InvalidInput(f"naming.alert_name: {self.alert_name!r} does not make a valid alert name", field="naming.alert_name")
        if self.label_prefix and not LABEL_NAME.fullmatch(self.label_prefix):
            raise InvalidInput(f"naming.label_prefix: {self.label_prefix!r} cannot start a label name", field="naming.label_prefix")
        try:
            re.compile(self.id_pattern)
        except re.error as exc:
            raise InvalidInput(f"naming.id_pattern: {exc}", field="naming.id_pattern") from None
        for label in self.required_labels:
            if not LABEL_NAME.fullmatch(label):
                raise InvalidInput(f"naming.required_labels: {label!r} is not a label name", field="naming.required_labels")

    def label(self, name: str) -> str:
        return self.label_prefix + name

    def record(self, name: str) -> str:
        return f"{self.recording_prefix}:{name}"

    def alert(self, journey: str, objective: str, severity: str) -> str:
        values = {"journey": _safe(journey), "objective": _safe(objective), "severity": _safe(severity),
                  "Severity": _safe(severity)[:1].upper() + _safe(severity)[1:]}
        return _TEMPLATE_FIELD.sub(lambda m: values[m.group(1)], self.alert_name)

    @property
    def generated_labels(self) -> frozenset[str]:
        return frozenset({"severity", *(self.label(n) for n in ("journey", "objective", "owner", "tier"))})


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


def check_id(convention: NamingConvention, field_name: str, value: str) -> str:
    """A journey or objective id a draft may take: one the convention's pattern matches in full."""
    if not re.fullmatch(convention.id_pattern, value):
        raise InvalidInput(f"{field_name}: {value!r} does not follow the naming convention {convention.id_pattern!r}; "
                           "an admin sets it (setNamingConvention)", field=field_name)
    return value


def check_labels(convention: NamingConvention, team_labels: Mapping[str, str], *, required: bool = True) -> None:
    """Team labels that make valid rule labels, none slogov sets itself, and (`required`)
    every label the convention requires. Drafts check all three; generation the first two,
    so an objective drafted before the convention required a label still gets its rules."""
    for name, value in team_labels.items():
        if not isinstance(name, str) or not LABEL_NAME.fullmatch(name) or name.startswith("__"):
            raise InvalidInput(f"labels: {name!r} is not a Prometheus label name", field="labels")
        if name in convention.generated_labels:
            raise InvalidInput(f"labels: {name!r} is set by slogov", field="labels")
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"labels.{name}: a non-empty string", field=f"labels.{name}")
    missing = [name for name in convention.required_labels if name not in team_labels] if required else []
    if missing:
        raise InvalidInput(f"labels: the naming convention requires {', '.join(missing)}", field="labels")


def check_names(convention: NamingConvention, journey_id: str, objective_id: str, team_labels: Mapping[str, str]) -> None:
    """What a draft must satisfy so that its rules are valid and filter cleanly."""
    check_id(convention, "journey_id", journey_id)
    check_id(convention, "objective_id", objective_id)
    check_labels(convention, team_labels)


@dataclass(frozen=True, slots=True)
class MonitoredObjective:
    """What the rules of one agreed objective are made from."""

    objective_id: str
    journey_id: str
    name: str
    owner: str
    target: float
    window: str  # for people: "rolling 30d", "calendar month"
    sli: SLIDefinition
    agreement_id: str
    runbooks: Mapping[str, str]  # tier_key(tier) -> URL, one per tier
    tiers: tuple[AlertTier, ...] = WORKBOOK_TIERS
    team_labels: Mapping[str, str] = field(default_factory=dict)
    # Who is notified, from the agreement: its escalation path, first responder first
    # (Alertmanager routing, `alertmanager_routes`), and its product owner.
    escalation_path: tuple[str, ...] = ()
    product_owner: str = ""


def tier_key(tier: AlertTier) -> str:
    """`page_1h_5m`: how a tier is named in labels and in the agreement's runbooks."""
    return f"{tier.severity}_{tier.long_window}_{tier.short_window}"


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def rule_groups(objectives: Sequence[MonitoredObjective], position: int,
                convention: NamingConvention = NamingConvention()) -> dict[str, Any]:
    """`{"groups": [...]}` for Prometheus, one group per objective, ordered by (journey, objective)."""
    groups = [
        _group(o, position, convention)
        for o in sorted(objectives, key=lambda o: (o.journey_id, o.objective_id))
    ]
    return {"groups": groups}


def _group(o: MonitoredObjective, position: int, c: NamingConvention) -> dict[str, Any]:
    check_labels(c, o.team_labels, required=False)
    if not 0 < o.target < 1:
        raise InvalidInput(f"target: must lie strictly between 0 and 1, got {o.target!r}", field="target")
    keys = [tier_key(t) for t in o.tiers]
    if len(set(keys)) != len(keys):
        raise InvalidInput("tiers: two tiers with the same severity and windows", field="tiers")
    missing = [k for k in keys if not o.runbooks.get(k)]
    if missing:
        raise InvalidInput(f"runbooks: the agreement names no runbook for tier {missing[0]}", field="runbooks")
    ids = {c.label("journey"): o.journey_id, c.label("objective"): o.objective_id}
    selector = "{" + ",".join(f"{k}={quote(v)}" for k, v in sorted(ids.items())) + "}"
    windows = sorted({w for t in o.tiers for w in (t.long_window, t.short_window)}, key=parse_duration)
    rules: list[dict[str, Any]] = [
        {"record": c.record(f"sli_error:ratio_rate{w}"), "expr": error_ratio(o.sli, w), "labels": dict(sorted(ids.items()))}
        for w in windows
    ]
    rules.append({"record": c.record("objective:target"), "expr": f"vector({_plain(_decimal(o.target))})", "labels": dict(sorted(ids.items()))})
    allowed = 1 - _decimal(o.target)
    for t in o.tiers:
        bound = _plain(_decimal(t.threshold) * allowed)
        expr = (f"{c.record(f'sli_error:ratio_rate{t.long_window}')}{selector} > {bound}\n"
                f"and\n{c.record(f'sli_error:ratio_rate{t.short_window}')}{selector} > {bound}")
        labels = {**o.team_labels, **ids, c.label("owner"): o.owner, c.label("tier"): tier_key(t), "severity": t.severity}
        rate = _plain(_decimal(t.threshold))
        rules.append({
            "alert": c.alert(o.journey_id, o.objective_id, t.severity),
            "expr": expr,
            "labels": dict(sorted(labels.items())),
            "annotations": {
                "summary": f"{o.name} is spending its error budget at over {rate}x (over {t.long_window} and {t.short_window})",
                "description": (f"Objective {o.objective_id} of journey {o.journey_id}: target {_plain(_decimal(o.target))} "
                                f"over {o.window}; at this rate the budget lasts under 1/{rate} of the window."),
                "runbook_url": o.runbooks[tier_key(t)],
                c.label("agreement_id"): o.agreement_id,
                c.label("log_position"): str(position),
            },
        })
    return {"name": f"{c.recording_prefix}-{o.journey_id}-{o.objective_id}", "rules": rules}


# --- Alertmanager routing -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscalationRoute:
    """The routing of one escalation path: the route to put under the root route's
    `routes:`, the receivers it names (one per severity, without integrations: slogov
    keeps no notification targets or secrets), and one provenance note per objective."""

    path: tuple[str, ...]
    route: dict[str, Any]
    receivers: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]


_SEVERITY_ORDER = {PAGE: 0, TICKET: 1}


def path_text(path: Sequence[str]) -> str:
    """`sre-oncall > eng-manager > vp-eng`: an escalation path as people read it."""
    return " > ".join(" ".join(step.split()) for step in path)


def receiver_name(convention: NamingConvention, severity: str, path: Sequence[str]) -> str:
    """`slogov page: sre-oncall > eng-manager`: the receiver of one path's alerts of one severity."""
    return f"{convention.recording_prefix} {severity}: {path_text(path)}"


def _id_regex(ids: Sequence[str]) -> str:
    # Ids hold letters, digits, '.', '_' and '-' (domain.commands.ID_PATTERN); a dot is the
    # one regex metacharacter among them, and `[.]` needs no escaping inside a matcher's quotes.
    for i in ids:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", i):
            raise InvalidInput(f"objective_id: {i!r} cannot be matched safely", field="objective_id")
    return "|".join(i.replace(".", "[.]") for i in ids)


def _note(o: MonitoredObjective) -> str:
    owners = f"owners {o.owner} (SRE)" + (f", {o.product_owner} (product)" if o.product_owner else "")
    labels = ", ".join(f"{k}={v}" for k, v in sorted(o.team_labels.items()))
    tiers = ", ".join(f"{tier_key(t)} ({t.severity})" for t in o.tiers)
    return (f"{o.objective_id} (journey {o.journey_id}): agreement {o.agreement_id}; {owners}"
            + (f"; labels {labels}" if labels else "") + f"; tiers {tiers}")


def alertmanager_routes(objectives: Sequence[MonitoredObjective],
                        convention: NamingConvention = NamingConvention()) -> tuple[EscalationRoute, ...]:
    """Alertmanager routing for the alerts `rule_groups` generates: per escalation path (by
    how it reads, sorted), a route matching its objectives by the objective label, grouping
    per objective, with a child route per severity to that path's receiver."""
    by_path: dict[str, list[MonitoredObjective]] = {}
    for o in objectives:
        if not o.escalation_path:
            raise InvalidInput(f"escalation_path: objective {o.objective_id}'s agreement names none", field="escalation_path")
        by_path.setdefault(path_text(o.escalation_path), []).append(o)
    objective_label = convention.label("objective")
    out: list[EscalationRoute] = []
    for text in sorted(by_path):
        members = sorted(by_path[text], key=lambda o: o.objective_id)
        path = members[0].escalation_path
        severities = sorted({t.severity for o in members for t in o.tiers}, key=lambda s: (_SEVERITY_ORDER.get(s, 9), s))
        receivers = tuple({"name": receiver_name(convention, s, path)} for s in severities)
        route = {
            "matchers": [f"{objective_label}=~{quote(_id_regex([o.objective_id for o in members]))}"],
            "group_by": ["alertname", convention.label("journey"), objective_label],
            "routes": [{"matchers": [f"severity={quote(s)}"], "receiver": r["name"]} for s, r in zip(severities, receivers)],
        }
        out.append(EscalationRoute(tuple(path), route, receivers, tuple(_note(o) for o in members)))
    return tuple(out)


def inhibit_rules(objectives: Sequence[MonitoredObjective],
                  convention: NamingConvention = NamingConvention()) -> list[dict[str, Any]]:
    """While a page of an objective fires, its tickets are muted: the page already says the
    budget is burning, faster, and the ticket would only send the same news to a second queue.
    One rule over the objectives whose tiers raise both severities (none if no objective does),
    equal on the journey and objective labels so that one objective's page never mutes another's
    ticket. Both sides match the objectives by their ids as the routes do, so no alert of
    anyone else is touched (Alertmanager counts a label missing on both sides as equal)."""
    both = sorted(o.objective_id for o in objectives if {PAGE, TICKET} <= {t.severity for t in o.tiers})
    if not both:
        return []
    objective_label = convention.label("objective")
    ours = f"{objective_label}=~{quote(_id_regex(both))}"
    return [{
        "source_matchers": [f"severity={quote(PAGE)}", ours],
        "target_matchers": [f"severity={quote(TICKET)}", ours],
        "equal": [convention.label("journey"), objective_label],
    }]
