"""What the collector and the baseline need to know about an objective: its SLI
definition and the data source it names, resolved together (`Target`).

`Catalog` is the port; `LogCatalog` reads it from the read models (the objective's
definition and the `source-{name}` stream's). A target whose source is not defined
is left out of `targets()` and refused by `target()` with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from domain.data_source import DataSource
from domain.sli_definition import SLIDefinition


@dataclass(frozen=True)
class Target:
    objective_id: str
    definition: SLIDefinition
    source: DataSource


class Catalog(Protocol):
    async def targets(self) -> Sequence[Target]:
        """Every live objective with an SLI definition whose source is defined."""

    async def target(self, objective_id: str) -> Target:
        """The objective's target; NotFound / Conflict (no definition, no source) otherwise."""


class StaticCatalog:
    """A fixed list of targets (one-off tools and unit tests)."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self._targets = {t.objective_id: t for t in targets}

    async def targets(self) -> Sequence[Target]:
        return list(self._targets.values())

    async def target(self, objective_id: str) -> Target:
        from domain.errors import Conflict

        found = self._targets.get(objective_id)
        if found is None:
            raise Conflict(f"objective {objective_id} has no SLI definition with a source: define one first",
                           objective_id=objective_id)
        return found
