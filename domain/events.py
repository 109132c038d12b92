"""The shapes of events before and after they are recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a decider wants appended; the store gives it a position."""

    type: str
    data: Mapping[str, Any]
    schema_version: int = 1


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the log holds it (after upcasting to the current schema)."""

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: Mapping[str, Any]
    metadata: Mapping[str, Any]
    recorded_at: datetime
    hash: str = ""

    @property
    def actor(self) -> str | None:
        return self.metadata.get("actor")

    @property
    def role(self) -> str | None:
        return self.metadata.get("role")


@dataclass(frozen=True, slots=True)
class Context:
    """What a decider may know beyond the command and its stream's state.

    `now` is the server time the command is decided at (the domain has no clock);
    `related` holds the folded state of other streams the command reads, keyed by
    stream id (an objective's decider sees its journey, for instance).
    """

    now: datetime
    actor: str
    roles: frozenset[str]
    related: Mapping[str, Any] = field(default_factory=dict)
