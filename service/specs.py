"""Specs in and out of the log: an import planned against the current state and applied as
one all-or-nothing command sequence, and an export of the state at a log position with
its provenance (the position and that position's chain hash).

The YAML is the API's business (api/specs reads and renders it); here a SpecSet comes in
and goes out, so the CLI and GraphQL share one import and one export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection

from sqlalchemy import select

from domain.errors import DomainError, InvalidInput, NotFound
from domain.specs.check import Finding, check
from domain.specs.model import Provenance, SpecSet
from domain.specs.of_state import specs_of
from domain import sources as sources_domain
from domain.specs.plan import Current, Plan, PlanErrors, plan, wanted, wanted_sources
from eventstore.codec import GENESIS_HASH
from eventstore.tables import events
from projections.tables import data_sources
from projections.tables import objectives as objectives_table
from service import budget_queries as bq
from service.as_of import AsOfReads
from service.bus import SequenceRefused
from service.envelope import CommandResult, Envelope

REASON = "specs import"


@dataclass(frozen=True)
class Imported:
    plan: Plan
    findings: tuple[Finding, ...]
    results: tuple[CommandResult, ...]  # what was appended (applied) or would be (dry run)
    applied: bool


async def import_specs(
    container: Any,
    specs: SpecSet,
    *,
    actor: str,
    roles: frozenset[str],
    apply: bool = False,
    source: str = "a spec file",
    known_sources: Collection[str] = (),
    reason: str | None = None,
) -> Imported:
    """Plan `specs` against the state at the head; run the plan's commands as one sequence,
    rolled back unless `apply` (so a dry run is refused exactly where the import would be).
    A refusal names the spec's place and appends nothing. `reason` (default REASON) is
    recorded on every event."""
    reads = AsOfReads(container, (await container.store.head())[0])
    current = await _current(reads, specs)
    try:
        the_plan = plan(specs, current, actor=actor, source=source)
    except PlanErrors as e:
        raise InvalidInput(str(e), places=[str(x.where) for x in e.errors if x.where]) from None
    findings = check(specs, dependency_targets=await _dependency_targets(container, reads, specs),
                     known_sources={*known_sources, *await _known_sources(container, reads)})
    commands = the_plan.commands
    envelopes = [Envelope(command, actor, roles, expected_version=version, reason=reason or REASON)
                 for command, version in zip((c for c, _ in commands), _expected(current, commands))]
    try:
        results = await container.bus.execute_sequence(envelopes, dry_run=not apply) if envelopes else []
    except SequenceRefused as refused:
        step = commands[refused.index][1]
        place = f"{step.where}: " if step.where else ""
        error = type(refused.cause)(f"{place}{step.subject}: {refused.cause.message}", **refused.cause.details)
        raise error from None
    return Imported(the_plan, findings, tuple(results), apply)


async def _source(reads: AsOfReads, name: str) -> Any:
    """A data source as of the reads' position (short streams: folded from the start)."""
    events_ = await reads.container.store.read_stream(sources_domain.stream_id(name), 0, until_position=reads.position)
    state = None
    for event in events_:
        state = sources_domain.evolve(state, event)
    return state


def _expected(current: Current, commands: Any) -> list[int | None]:
    """The version each journey and objective stream had when planned, on the first command
    that writes it: a change between the plan and its batch is a CONFLICT, not a surprise."""
    versions = {f"journey-{k}": v.version if v else 0 for k, v in current.journeys.items()}
    versions.update({f"objective-{k}": v.version if v else 0 for k, v in current.objectives.items()})
    versions.update({sources_domain.stream_id(k): v.version if v else 0 for k, v in current.sources.items()})
    out: list[int | None] = []
    for command, _ in commands:
        out.append(versions.pop(command.stream(), None))
    return out


async def _current(reads: AsOfReads, specs: SpecSet) -> Current:
    journey_ids, objective_ids = wanted(specs)
    objectives = {oid: await reads.objective(oid) for oid in objective_ids}
    tiers = {}
    for oid, state in objectives.items():
        budget = await reads.budget(oid) if state is not None else None
        tiers[oid] = budget.tiers if budget is not None else None
    found = {n: await _source(reads, n) for n in wanted_sources(specs)}
    return Current({j: await reads.journey(j) for j in journey_ids}, objectives, tiers, found)


async def _dependency_targets(container: Any, reads: AsOfReads, specs: SpecSet) -> dict[str, dict[str, float]]:
    out = {}
    for service in {s.service for s in specs.slos}:
        if await reads.journey(service) is None:
            continue
        try:
            out[service] = dict((await bq.feasibility(container, service, 0.5, reads)).dependency_targets)
        except DomainError:
            continue
    return out


async def check_specs(container: Any, specs: SpecSet, known_sources: Collection[str] = ()) -> tuple[Finding, ...]:
    """The checks an import runs, on their own, against the state at the head."""
    reads = AsOfReads(container, (await container.store.head())[0])
    return check(specs, dependency_targets=await _dependency_targets(container, reads, specs),
                 known_sources={*known_sources, *await _known_sources(container, reads)})


async def _known_sources(container: Any, reads: AsOfReads) -> set[str]:
    """The data sources slogov has (not retired): an SLI naming one has a known source."""
    async with container.read_engine.connect() as conn:
        names = (await conn.execute(select(data_sources.c.id).where(
            data_sources.c.created_position <= reads.position))).scalars().all()
    states = [await _source(reads, n) for n in names]
    return {s.name for s in states if s is not None and not s.retired}


async def export_specs(container: Any, position: int | None = None, *,
                       include_drafts: bool = False) -> tuple[SpecSet, Provenance]:
    """What was agreed at `position` (default: the head), with drafts and open proposals
    when asked, and the provenance the export's annotations carry."""
    head = (await container.store.head())[0]
    if position is None:
        position = head
    if position > head:
        raise NotFound(f"the log has no position {position} (its head is {head})", position=position)
    reads = AsOfReads(container, position)
    async with container.read_engine.connect() as conn:
        ids = (await conn.execute(select(objectives_table.c.id).where(
            objectives_table.c.created_position <= position).order_by(objectives_table.c.id))).scalars().all()
        chain = GENESIS_HASH if position == 0 else (await conn.execute(
            select(events.c.hash).where(events.c.position == position))).scalar_one()
    states = [s for s in [await reads.objective(i) for i in ids] if s is not None]
    journeys = {}
    for s in states:
        if s.journey_id not in journeys:
            journeys[s.journey_id] = await reads.journey(s.journey_id)
    tiers = {}
    for s in states:
        budget = await reads.budget(s.id)
        tiers[s.id] = budget.tiers if budget is not None else None
    found = {q.source: await _source(reads, q.source) for q in (s.sli_definition for s in states) if q is not None}
    specs, slos = specs_of({k: v for k, v in journeys.items() if v is not None}, states, tiers,
                           include_drafts=include_drafts, sources={k: v for k, v in found.items() if v is not None})
    return specs, Provenance(position, chain, slos)
