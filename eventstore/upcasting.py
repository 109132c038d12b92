"""Upcasters: old event schemas are brought to the current one on read.

Stored events are never rewritten (the log is append-only and hash-chained);
instead each (type, schema_version) may have a function that turns its data
into the next version's shape. Reading applies them in a chain.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

Upcast = Callable[[Mapping[str, Any]], dict[str, Any]]


class Upcasters:
    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcast] = {}
        self._current: dict[str, int] = {}

    def register(self, type_: str, from_version: int, step: Upcast) -> None:
        key = (type_, from_version)
        if key in self._steps:
            raise ValueError(f"an upcaster for {type_} v{from_version} is already registered")
        self._steps[key] = step
        self._current[type_] = max(self._current.get(type_, 1), from_version + 1)

    def current_version(self, type_: str) -> int:
        """The schema version new events of this type are written at."""
        return self._current.get(type_, 1)

    def upcast(self, type_: str, version: int, data: Mapping[str, Any]) -> tuple[int, Mapping[str, Any]]:
        while (step := self._steps.get((type_, version))) is not None:
            data = step(data)
            version += 1
        return version, data

    def __bool__(self) -> bool:
        return bool(self._steps)
