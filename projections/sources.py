"""Data sources: one row per `source-{name}` stream, retired ones included (SLI
definitions recorded before a retirement still name them)."""

from __future__ import annotations

from domain import sources
from projections.documents import doc_json
from projections.entities import EntityProjection
from projections.tables import data_sources


def _rows(state: sources.SourceState, created_position: int) -> dict:
    return {
        data_sources: [
            {
                "id": state.name,
                "created_position": created_position,
                "kind": state.kind,
                "url": state.url,
                "retired": state.retired,
                "version": state.version,
                "doc": doc_json(sources.to_dict(state)),
            }
        ]
    }


def projection() -> EntityProjection:
    return EntityProjection(
        name="data_sources",
        category=sources.CATEGORY,
        main=data_sources,
        evolve=sources.evolve,
        to_dict=sources.to_dict,
        from_dict=sources.from_dict,
        rows=_rows,
    )
