"""Objectives (SLOs) with their negotiation history and status."""

from __future__ import annotations

from domain import objective
from projections.documents import doc_json
from projections.entities import EntityProjection
from projections.tables import objective_labels, objectives


def _rows(state: objective.ObjectiveState, created_position: int) -> dict:
    agreement = state.agreement
    return {
        objectives: [
            {
                "id": state.id,
                "created_position": created_position,
                "journey_id": state.journey_id,
                "name": state.name,
                "status": str(state.status),
                "sli_kind": state.sli.kind,
                "informational": state.informational,
                "agreed_target": state.agreed_target,
                "product_owner": agreement.product_owner if agreement else None,
                "sre_owner": agreement.sre_owner if agreement else None,
                "version": state.version,
                "service": state.service,
                "slo": state.slo,
                "doc": doc_json(objective.to_dict(state)),
            }
        ],
        objective_labels: [{"objective_id": state.id, "key": x.key, "value": x.value} for x in state.labels],
    }


def projection() -> EntityProjection:
    return EntityProjection(
        name="objectives",
        category=objective.CATEGORY,
        main=objectives,
        evolve=objective.evolve,
        to_dict=objective.to_dict,
        from_dict=objective.from_dict,
        rows=_rows,
        side_tables=(objective_labels,),
        side_key="objective_id",
    )
