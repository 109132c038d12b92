"""What travels with a command: who sends it, and the guards it carries."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from collections.abc import Sequence
from typing import Any

from domain.text import check_text
from eventstore.codec import canonical


@dataclass(frozen=True)
class Envelope:
    command: Any
    actor: str
    roles: frozenset[str]
    expected_version: int | None = None
    idempotency_key: str | None = None
    reason: str | None = None
    correlation_id: str | None = None
    # What the caller asked, when the command also holds what the server worked out from
    # it just before (a what-if run's summary and the log position it read): the
    # idempotency key is judged on this instead, so a retry after the log has moved on is
    # still the same request. None: the command is what the caller asked.
    request: Any = None

    def __post_init__(self) -> None:
        # The guards reach the database before any decider sees them (an idempotency key
        # is looked up first): the text rule holds for them here, whoever built the envelope.
        for name in ("idempotency_key", "reason", "actor"):
            value = getattr(self, name)
            if isinstance(value, str):
                check_text(value, name)


@dataclass(frozen=True)
class EventRef:
    position: int
    type: str
    stream_id: str
    stream_version: int


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    version: int
    events: tuple[EventRef, ...] = field(default_factory=tuple)
    # True when an idempotency key matched: nothing was appended this time.
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "version": self.version,
            "events": [[e.position, e.type, e.stream_id, e.stream_version] for e in self.events],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], replayed: bool) -> "CommandResult":
        return cls(
            stream_id=data["stream_id"],
            version=data["version"],
            events=tuple(EventRef(*e) for e in data["events"]),
            replayed=replayed,
        )


def jsonable(value: Any) -> Any:
    """Commands (dataclasses of tuples, datetimes, enums) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Derived fields (init=False, e.g. an interval's cached microseconds) are left out:
        # they say nothing the others do not, and request hashes stay as they were.
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):  # e.g. IntervalRows: as a tuple of its items
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def request_hash(envelope: Envelope) -> str:
    """Identifies a request for idempotency: the same key must mean the same command."""
    body = {
        "command": type(envelope.command).__name__,
        "fields": jsonable(envelope.command if envelope.request is None else envelope.request),
        "actor": envelope.actor,
        "expected_version": envelope.expected_version,
    }
    return hashlib.sha256(canonical(body).encode()).hexdigest()
