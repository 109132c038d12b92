"""Journeys, the services they depend on (for the depends-on filter) and their labels."""

from __future__ import annotations

from typing import Any

from domain import journey
from projections.documents import doc_json
from projections.entities import EntityProjection
from projections.tables import journey_dependencies, journey_labels, journeys


def _rows(state: journey.JourneyState, created_position: int) -> dict:
    main = {
        "id": state.id,
        "created_position": created_position,
        "name": state.name,
        "status": str(state.status),
        "tier": state.tier,
        "owner": state.owner,
        "version": state.version,
        "doc": doc_json(journey.to_dict(state)),
    }
    deps: list[dict[str, Any]] = [
        {"journey_id": state.id, "service": d.service, "kind": d.kind, "critical": d.critical}
        for d in state.dependencies
    ]
    labels = [{"journey_id": state.id, "key": x.key, "value": x.value} for x in state.labels]
    return {journeys: [main], journey_dependencies: deps, journey_labels: labels}


def projection() -> EntityProjection:
    return EntityProjection(
        name="journeys",
        category=journey.CATEGORY,
        main=journeys,
        evolve=journey.evolve,
        to_dict=journey.to_dict,
        from_dict=journey.from_dict,
        rows=_rows,
        side_tables=(journey_dependencies, journey_labels),
        side_key="journey_id",
    )
