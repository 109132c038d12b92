"""The SLI as queries (the seed's phase 3: "what to measure, at which service boundary,
and with what query"): `DefineSli` gives an objective its SLI definition, a ratio or a
latency threshold over a histogram read from a named data source
(`domain.sli_definition`).

The definition is part of what the parties agree to:
- before anything is agreed (DRAFT) it is set directly: `SliDefined`;
- while a first negotiation is open it is refused (the parties are endorsing the one
  they see; withdraw or defer the proposal first);
- once a target is agreed, a change is a proposal like a target change:
  `SliChangeProposed` opens a proposal (with the agreed target) that the parties endorse
  or object to with the same commands, and the `TargetAgreed` that closes it carries
  the definition, which then takes effect.
Either way, when the definition takes effect the journey's open instrumentation gaps of
the objective's SLI kind are closed (`gaps_closed`, applied by a reactor in the same
transaction). A proposal to change an SLI is not held back by such a gap: it is how
the gap gets closed.

The rules here are the pure ones: the expressions parse (`domain.promql`), the kind
fits the objective (a latency definition's bucket is the objective's threshold), the
slice rule is the objective's for timeslices, and the source exists and is not retired.
Whether Prometheus itself accepts the queries is asked by the service before the
command is sent (`checked` records that it did).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from domain import journey as journeys
from domain import sources
from domain.commands import (
    ID_PATTERN,
    PARTIES,
    optional_text,
    related_state,
    require_bool,
    require_id,
    require_parties,
    require_text,
)
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective.negotiation import check_new_proposal, opened_proposal
from domain.objective.state import (
    ObjectiveCommand,
    ObjectiveState,
    SliQuery,
    with_step,
)
from domain.records import replace
from domain.sli_definition import LATENCY, LatencySLI, parse_definition

FIELD = "definition"  # how the API names the definition; errors name its fields under it


@dataclass(frozen=True)
class DefineSli(ObjectiveCommand):
    objective_id: str
    definition: Mapping[str, Any]  # the plain form `domain.sli_definition.parse_definition` reads
    # An agreed objective's definition changes by proposal: these name it.
    proposal_id: str | None = None
    rationale: str | None = None
    required_parties: tuple[str, ...] = PARTIES
    checked: bool = False  # the service had the source accept the queries first

    def reads(self, state: ObjectiveState | None = None) -> tuple[str, ...]:
        source = self.definition.get("source") if isinstance(self.definition, Mapping) else None
        if isinstance(source, str) and ID_PATTERN.fullmatch(source):
            return (sources.stream_id(source),)
        return ()  # a malformed name is refused by the parser before any read is needed


def source_name(definition: Any) -> str:
    """The data source a definition reads (InvalidInput when it names none)."""
    if not isinstance(definition, Mapping):
        raise InvalidInput(f"{FIELD} must be an object with a kind ('ratio' or 'latency')", field=FIELD)
    return require_id(definition.get("source"), f"{FIELD}.source")


def _definition(cmd: DefineSli, state: ObjectiveState) -> dict[str, Any]:
    """The definition, parsed and fitted to the objective, in its canonical plain form."""
    parsed = parse_definition(cmd.definition, FIELD)
    data = parsed.to_dict()
    sli = state.sli
    if isinstance(parsed, LatencySLI):
        if sli.kind != "latency":
            raise InvalidInput(
                f"{FIELD}.kind: a latency definition fits a latency objective; {state.id} measures {sli.kind}",
                field=f"{FIELD}.kind",
            )
        if abs(parsed.threshold_seconds * 1000 - sli.threshold_ms) > 1e-9 * max(1.0, sli.threshold_ms):
            raise InvalidInput(
                f"{FIELD}.le: the bucket le={parsed.le} (seconds) is not the objective's threshold "
                f"of {sli.threshold_ms:g} ms",
                field=f"{FIELD}.le",
            )
    budgeting = state.budgeting
    if budgeting.method == "timeslices":
        rule = {"minutes": budgeting.slice_minutes, "good_ratio": budgeting.slice_threshold}
        given = data.get("slice")
        if given is not None and given != rule:
            raise InvalidInput(
                f"{FIELD}.slice: the objective's slices are {rule['minutes']} minutes, good at "
                f"{rule['good_ratio']:g}; the definition says {given['minutes']} and {given['good_ratio']:g}",
                field=f"{FIELD}.slice",
            )
        data["slice"] = rule
    elif data.get("slice") is not None:
        raise InvalidInput(
            f"{FIELD}.slice applies only to an objective budgeted in timeslices", field=f"{FIELD}.slice"
        )
    return data


def _live_source(ctx: Context, name: str) -> None:
    source = related_state(ctx, sources.stream_id(name))
    if source is None:
        raise NotFound(f"data source {name} does not exist: define it first", field=f"{FIELD}.source", name=name)
    if source.retired:
        raise Conflict(f"data source {name} is retired", field=f"{FIELD}.source", name=name)


def _define(cmd: DefineSli, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    name = source_name(cmd.definition)
    query = SliQuery.from_definition(_definition(cmd, state), require_bool(cmd.checked, "checked"))
    _live_source(ctx, name)
    rationale = optional_text(cmd.rationale, "rationale")
    if state.agreed_target is None:
        if cmd.proposal_id is not None:
            raise InvalidInput(
                "proposal_id applies to an agreed objective: before agreement the definition is set directly",
                field="proposal_id",
            )
        if state.open_proposal is not None:
            raise Conflict(
                f"proposal {state.open_proposal.proposal_id} is open: the parties are weighing the current "
                "SLI definition; withdraw or defer it before changing the definition",
                open_proposal_id=state.open_proposal.proposal_id,
            )
        return [NewEvent("SliDefined", {"objective_id": state.id, "sli_definition": query.to_data(),
                                        "rationale": rationale})]
    # Agreed: the definition is part of the agreement, so a change is a proposal.
    if cmd.proposal_id is None or rationale is None:
        raise InvalidInput(
            f"objective {state.id} has an agreed target: its SLI definition changes by a proposal the "
            "parties endorse; give proposal_id and rationale",
            field="proposal_id" if cmd.proposal_id is None else "rationale",
        )
    proposal_id = require_id(cmd.proposal_id, "proposal_id")
    if state.sli_definition is not None and state.sli_definition.definition() == query.definition():
        raise Conflict(f"objective {state.id} already has this SLI definition", objective_id=state.id)
    parties = require_parties(cmd.required_parties, "required_parties")
    check_new_proposal(state, proposal_id)
    return [
        NewEvent(
            "SliChangeProposed",
            {
                "objective_id": state.id,
                "proposal_id": proposal_id,
                "target": state.agreed_target,
                "rationale": require_text(rationale, "rationale"),
                "required_parties": list(parties),
                "sli_definition": query.to_data(),
            },
        )
    ]


def sources_named(state: ObjectiveState) -> frozenset[str]:
    """The data sources a live objective reads or may come to read: its SLI definition's and
    its open proposal's (an SLI change the parties may still agree). None once retired."""
    if state.retired:
        return frozenset()
    defs = (state.sli_definition, state.open_proposal.sli_definition if state.open_proposal else None)
    return frozenset(q.source for q in defs if q is not None)


# --- what a definition taking effect closes --------------------------------------------


def takes_effect(event: RecordedEvent) -> bool:
    """Does this objective event make an SLI definition the objective's own?"""
    return event.type == "SliDefined" or (event.type == "TargetAgreed" and bool(event.data.get("sli_definition")))


def gaps_closed(state: ObjectiveState, journey: journeys.JourneyState | None) -> list[NewEvent]:
    """InstrumentationGapClosed for each open gap on the objective's journey of its SLI kind
    (the journey's events; none when the journey is gone or retired)."""
    if journey is None or journey.retired or state.sli_definition is None:
        return []
    q = state.sli_definition
    what = f"{q.kind} SLI from data source {q.source}"
    return [
        NewEvent(
            "InstrumentationGapClosed",
            {"journey_id": journey.id, "gap_id": g.gap_id,
             "resolution": f"objective {state.id} defines its {state.sli.kind} SLI as a {what}"},
        )
        for g in journey.open_gaps
        if g.sli_kind == state.sli.kind
    ]


# --- evolve ------------------------------------------------------------------------------


def describe(q: SliQuery) -> str:
    if q.kind == LATENCY:
        text = f"latency: {q.histogram} le={q.le}"
    elif q.good is not None:
        text = f"ratio: good {q.good} / total {q.total}"
    else:
        text = f"ratio: bad {q.bad} / total {q.total}"
    return f"{text} from {q.source}"


def _sli_defined(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    query = SliQuery.from_data(event.data["sli_definition"])
    detail = f"SLI defined as {describe(query)}"
    if event.data.get("rationale"):
        detail += f": {event.data['rationale']}"
    return replace(state, sli_definition=query, history=with_step(state, event, None, detail))


def _sli_change_proposed(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    d = event.data
    query = SliQuery.from_data(d["sli_definition"])
    proposal = opened_proposal(event, sli_definition=query)
    detail = (
        f"proposed the SLI as {describe(query)} (needs {', '.join(proposal.required_parties)}): "
        f"{proposal.rationale}"
    )
    return replace(
        state,
        proposals=state.proposals + (proposal,),
        history=with_step(state, event, proposal.proposal_id, detail),
    )


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {DefineSli: _define}

EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {
    "SliDefined": _sli_defined,
    "SliChangeProposed": _sli_change_proposed,
}
