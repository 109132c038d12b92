"""Generated monitoring as the API and the CLI read it: the naming convention in force,
at one log position (the head by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import conventions
from domain.monitoring import NamingConvention


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

