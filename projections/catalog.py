"""Every projection the application runs inline, in the order they apply."""

from __future__ import annotations

from eventstore.store import EventStore
from projections import audit, budgets, gate_epoch, journeys, objectives, policy_actions, snapshots, sources
from projections.runner import Projection


def inline_projections(store: EventStore | None = None) -> list[Projection]:
    # `store` reads (and upcasts) earlier events of a stream for the inline snapshots.
    return [
        journeys.projection(), objectives.projection(), budgets.projection(), *policy_actions.projections(), sources.projection(),
        gate_epoch.GateEpochProjection(), audit.EventIndexProjection(), snapshots.SnapshotProjection(store),
    ]
