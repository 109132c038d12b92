"""Schema changes to recorded events, as pure functions from old data to new.

Each entry upgrades (event type, schema version N) to version N + 1; the store
applies them in a chain on read, and deciders and projections only ever see
the current shape. Stored events are never rewritten. Add an entry here, and
bump the version deciders emit, whenever an event's data changes shape.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

Step = Callable[[Mapping[str, Any]], dict[str, Any]]

# (event type, from schema version, step). Every event is still at version 1.
UPCASTERS: tuple[tuple[str, int, Step], ...] = ()
