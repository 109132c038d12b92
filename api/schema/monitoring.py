"""Generated monitoring in the API (the seed's phase 6).

Query: monitoringRules -- the Prometheus rules file generated from every agreed objective with
an SLI definition (or one), at asOf or the head: recording rules per window its tiers use and a
multiwindow burn-rate alert per tier, labelled for routing, linking the tier's runbook, naming
the agreement and the log position (``service.monitoring``). Any authenticated caller may ask.
Query: monitoringAlertmanager -- the Alertmanager routing for those alerts (the same objectives):
a route per escalation path the agreements name, a receiver per path and severity, the agreements
behind each route and the log position as comments.
Query: namingConvention -- the convention in force (at asOf, or the head).
Mutation: setNamingConvention -- an admin sets the organisation's convention; drafts of
journeys and objectives are checked against it from then on.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema.inputs import command_input
from api.schema.shared import AsOf, EventRef, event_refs, run_command
from domain import conventions as conventions_domain
from domain.commands import parse_iso
from service import audit
from service import monitoring as service


@strawberry.type(description="How generated rules are named, and what drafts must satisfy (set by an admin).")
class NamingConvention:
    recording_prefix: str = strawberry.field(description="Recording rules are <prefix>:sli_error:ratio_rate5m ...")
    alert_name: str = strawberry.field(description="Template over {journey} {objective} {severity} {Severity}.")
    label_prefix: str = strawberry.field(description="Generated labels: <prefix>journey, <prefix>objective, "
                                         "<prefix>owner, <prefix>tier (and severity).")
    id_pattern: str = strawberry.field(description="Journey and objective ids must match it in full.")
    required_labels: list[str] = strawberry.field(description="Labels every objective must carry (e.g. team).")
    set_by: str | None = strawberry.field(description="Null: never set; the defaults hold and any valid id passes.")
    set_at: datetime | None
    note: str | None
    position: int = strawberry.field(description="The log position it was read at.")


@command_input
class SetNamingConventionInput:
    recording_prefix: str = "slogov"
    alert_name: str = "ErrorBudgetBurn{Severity}"
    label_prefix: str = "slo_"
    id_pattern: str | None = strawberry.field(default=None, description="A regular expression ids must match in "
                                              "full; null: any valid id.")
    required_labels: list[str] = strawberry.field(default_factory=list)
    note: str | None = None


@strawberry.type
class NamingConventionPayload:
    convention: NamingConvention
    events: list[EventRef] = strawberry.field(description="Empty when it was the convention in force already.")
    replayed: bool


def from_convention(found: service.Convention) -> NamingConvention:
    c, state = found.convention, found.state
    return NamingConvention(
        recording_prefix=c.recording_prefix, alert_name=c.alert_name, label_prefix=c.label_prefix,
        id_pattern=c.id_pattern, required_labels=list(c.required_labels),
        set_by=None if state is None else state.set_by, set_at=None if state is None else parse_iso(state.set_at),
        note=None if state is None else state.note, position=found.position,
    )


@strawberry.type(description="An agreed objective that has no rules yet, and why.")
class SkippedObjective:
    objective_id: strawberry.ID
    reason: str


@strawberry.type(description="A Prometheus rules file generated from what was agreed, at one log position.")
class MonitoringRules:
    yaml: str = strawberry.field(description="The rules file (load it with rule_files; check it with promtool "
                                 "check rules). The same position always gives the same bytes.")
    position: int = strawberry.field(description="The log position it was generated at (named in the file too).")
    objective_ids: list[strawberry.ID] = strawberry.field(description="The objectives it holds rules for.")
    skipped: list[SkippedObjective] = strawberry.field(description="Agreed objectives without rules yet "
                                                       "(no SLI definition, no runbooks, not formalized).")


@strawberry.type(description="Alertmanager routing for the generated alerts, from what was agreed, at one log "
                 "position.")
class MonitoringAlertmanager:
    yaml: str = strawberry.field(description="`routes:` to put under the root route's routes, `receivers:` "
                                 "(one per escalation path and severity, to give integrations) and `inhibit_rules:` "
                                 "(a firing page mutes the tickets of its own objective), with the agreements "
                                 "behind each route as comments. The same position always gives the same bytes.")
    position: int = strawberry.field(description="The log position it was generated at (named in the snippet too).")
    objective_ids: list[strawberry.ID] = strawberry.field(description="The objectives it routes alerts of.")
    skipped: list[SkippedObjective] = strawberry.field(description="Agreed objectives without rules yet, so "
                                                       "without routing (as monitoringRules says).")


def _skipped(found: service.GeneratedRules) -> list[SkippedObjective]:
    return [SkippedObjective(objective_id=strawberry.ID(i), reason=r) for i, r in found.skipped]


@strawberry.type
class MonitoringQuery:
    @strawberry.field(description="Prometheus recording and multiwindow burn-rate alerting rules for every agreed "
                      "objective with an SLI definition, or for objectiveId (which must then have them).")
    async def monitoring_rules(self, info: Info, objective_id: strawberry.ID | None = None,
                               as_of: AsOf | None = None) -> MonitoringRules:
        current_principal(info)
        container = info.context["container"]
        position = None if as_of is None else await audit.resolve_as_of(container, as_of.position, as_of.time)
        found = await service.monitoring_rules(container, position, None if objective_id is None else str(objective_id))
        return MonitoringRules(yaml=found.yaml, position=found.position,
                               objective_ids=[strawberry.ID(i) for i in found.objectives],
                               skipped=_skipped(found))

    @strawberry.field(description="Alertmanager routing for the alerts monitoringRules generates (the same objectives, "
                      "or objectiveId): a route per escalation path their agreements name, with a child route per "
                      "severity to a receiver per path and severity, and an inhibit rule by which an objective's firing page "
                      "mutes its tickets.")
    async def monitoring_alertmanager(self, info: Info, objective_id: strawberry.ID | None = None,
                                      as_of: AsOf | None = None) -> MonitoringAlertmanager:
        current_principal(info)
        container = info.context["container"]
        position = None if as_of is None else await audit.resolve_as_of(container, as_of.position, as_of.time)
        found = await service.monitoring_alertmanager(container, position,
                                                      None if objective_id is None else str(objective_id))
        return MonitoringAlertmanager(yaml=found.yaml, position=found.position,
                                      objective_ids=[strawberry.ID(i) for i in found.objectives], skipped=_skipped(found))

    @strawberry.field(description="The naming convention in force (asOf: as it stood then).")
    async def naming_convention(self, info: Info, as_of: AsOf | None = None) -> NamingConvention:
        current_principal(info)
        container = info.context["container"]
        position = None if as_of is None else await audit.resolve_as_of(container, as_of.position, as_of.time)
        return from_convention(await service.naming_convention(container, position))


@strawberry.type
class MonitoringMutation:
    @strawberry.mutation(description="Set the organisation's naming convention (admin). Journey and objective "
                         "drafts are checked against it from then on; generated rules follow it.")
    async def set_naming_convention(self, info: Info, input: SetNamingConventionInput) -> NamingConventionPayload:
        result = await run_command(info, "SetNamingConvention", input, lambda: conventions_domain.SetNamingConvention(
            input.recording_prefix, input.alert_name, input.label_prefix, input.id_pattern,
            tuple(input.required_labels), input.note))
        found = await service.naming_convention(info.context["container"])
        return NamingConventionPayload(convention=from_convention(found), events=event_refs(result.events),
                                       replayed=result.replayed)
