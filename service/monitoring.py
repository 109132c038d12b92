"""Generated monitoring as the API and the CLI read it: the naming convention in force, and
the Prometheus rules (and the Alertmanager routing for their alerts) of every agreed
objective with an SLI definition, at one log position.

Everything is read as the log stood at that position (the head by default), so the
file names the position it was generated at and the same position always gives the
same bytes. An agreed objective whose agreement names no runbooks (formalized before
runbooks were part of it, or without them) gets no rules: it is listed as skipped,
with the reason, until its agreement is formalized again with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from domain import conventions
from domain.budget import burn
from domain.errors import NotFound, PolicyViolation
from domain.monitoring import MonitoredObjective, NamingConvention, tier_key
from domain.sli_definition import parse_definition
from projections.tables import objectives
from service.as_of import AsOfReads
from service.monitoring_rules import alertmanager_yaml, rules_yaml


@dataclass(frozen=True)
class Convention:
    convention: NamingConvention
    state: conventions.ConventionState | None  # None: never set (conventions.UNSET holds)
    position: int


async def head_position(container: Any) -> int:
    position, _ = await container.store.head()
    return position


async def naming_convention(container: Any, position: int | None = None) -> Convention:
    """The convention in force at `position` (None: the head)."""
    at = await head_position(container) if position is None else position
    state = None
    for event in await container.store.read_stream(conventions.STREAM_ID, until_position=at):
        state = conventions.evolve(state, event)
    return Convention(conventions.convention_of(state), state, at)


def window_text(window: Any) -> str:
    """How the window reads in an alert's description: "rolling 28d", "calendar month"."""
    if window.kind == "rolling":
        return f"rolling {window.days}d"
    return window.kind.replace("_", " ")


def tiers_of(agreement: Any) -> tuple[burn.AlertTier, ...]:
    """The tiers the agreement agreed to: its policy version's, or the workbook's the budget applies."""
    stated = None if agreement.alert_tiers is None else [
        {"severity": t.severity, "long_window": t.long_window, "short_window": t.short_window, "threshold": t.threshold}
        for t in agreement.alert_tiers
    ]
    return burn.parse_tiers(stated)


@dataclass(frozen=True)
class GeneratedRules:
    yaml: str  # the rules file (or Alertmanager snippet), deterministic for the position
    position: int
    objectives: tuple[str, ...]  # the objectives it holds rules for, by id
    skipped: tuple[tuple[str, str], ...]  # (objective id, why it has none yet): agreed objectives only


def agreement_id(state: Any) -> str:
    """Names the agreement in force: the objective, the proposal agreed, the policy pinned."""
    a = state.agreement
    return f"{state.id}/{state.agreed_proposal_id}/{a.policy_id}@v{a.policy_version}"


def monitored(state: Any, journey: Any, convention: NamingConvention) -> MonitoredObjective | str:
    """What the rules of an agreed objective are made from, or why it has none yet. The
    owner is the agreement's SRE owner (who answers the page); the team labels are the
    objective's over its journey's (`conventions.rule_labels`)."""
    if state.agreement is None:
        return "agreed but not formalized: the agreement names the runbooks the alerts link"
    if state.sli_definition is None:
        return "no SLI definition: define its queries (defineSli) first"
    tiers = tiers_of(state.agreement)
    if not state.agreement.runbooks:
        return ("its agreement names no runbooks: formalize it again with one per tier ("
                + ", ".join(tier_key(t) for t in tiers) + ")")
    return MonitoredObjective(
        objective_id=state.id, journey_id=state.journey_id, name=state.name, owner=state.agreement.sre_owner,
        target=state.agreed_target, window=window_text(state.window),
        sli=parse_definition(state.sli_definition.definition()), agreement_id=agreement_id(state),
        runbooks=state.agreement.runbooks, tiers=tiers,
        team_labels=conventions.rule_labels(() if journey is None else journey.labels, state.labels, convention),
        escalation_path=tuple(state.agreement.escalation_path), product_owner=state.agreement.product_owner,
    )


async def _monitored(container: Any, position: int | None, objective_id: str | None
                     ) -> tuple[Convention, list[MonitoredObjective], list[tuple[str, str]]]:
    """What every agreed objective with an SLI definition (or one) is monitored from, and the
    agreed ones that are not monitored yet with why, as the log stood at `position`."""
    found = await naming_convention(container, position)
    reads = AsOfReads(container, found.position)
    if objective_id is not None:
        state = await reads.objective(objective_id)
        if state is None:
            raise NotFound(f"objective {objective_id} does not exist" + ("" if position is None else f" at position {position}"),
                           objective_id=objective_id)
        states = [state]
    else:
        async with container.read_engine.connect() as conn:
            ids = (await conn.execute(
                select(objectives.c.id).where(objectives.c.created_position <= found.position).order_by(objectives.c.id)
            )).scalars().all()
        states = [s for s in [await reads.objective(i) for i in ids] if s is not None]
    made: list[MonitoredObjective] = []
    skipped: list[tuple[str, str]] = []
    for state in states:
        if state.retired or state.agreed_target is None:
            if objective_id is not None:
                raise PolicyViolation(f"objective {state.id} is " + ("retired" if state.retired else "not agreed yet")
                                      + ": only agreed objectives are monitored", objective_id=state.id)
            continue
        item = monitored(state, await reads.journey(state.journey_id), found.convention)
        if isinstance(item, str):
            if objective_id is not None:
                raise PolicyViolation(f"objective {state.id}: {item}", objective_id=state.id)
            skipped.append((state.id, item))
        else:
            made.append(item)
    return found, made, skipped


async def monitoring_rules(container: Any, position: int | None = None, objective_id: str | None = None) -> GeneratedRules:
    """The rules of every agreed objective with an SLI definition (or of one), as the log stood
    at `position` (None: the head), named by the convention in force then."""
    found, made, skipped = await _monitored(container, position, objective_id)
    text = rules_yaml(made, found.position, found.convention)
    return GeneratedRules(text, found.position, tuple(sorted(m.objective_id for m in made)), tuple(skipped))


async def monitoring_alertmanager(container: Any, position: int | None = None,
                                  objective_id: str | None = None) -> GeneratedRules:
    """The Alertmanager routing for the alerts `monitoring_rules` generates at the same position
    (the same objectives, the same skipped ones): a route per escalation path their agreements
    name, to a receiver per path and severity."""
    found, made, skipped = await _monitored(container, position, objective_id)
    text = alertmanager_yaml(made, found.position, found.convention)
    return GeneratedRules(text, found.position, tuple(sorted(m.objective_id for m in made)), tuple(skipped))
