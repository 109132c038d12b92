"""Collects what the readers find into one SpecSet: one object per (kind, name), inline
definitions hoisted beside referenced ones, references checked once everything is read
(an SLO in one file may name an SLI in another), and every error kept with its place."""

from __future__ import annotations

from typing import Any, Callable

from domain.specs.model import NotCarried, SpecSet
from .yaml_source import Item, SpecError, SpecErrors, Where

class Builder:
    def __init__(self) -> None:
        self._objects: dict[tuple[str, str], tuple[Any, Where]] = {}
        self._refs: list[tuple[str, str, Item]] = []
        self.not_carried: list[NotCarried] = []
        self.errors: list[SpecError] = []

    def add(self, kind: str, obj: Any, item: Item) -> str:
        """Keep `obj` under its name; the same name twice must mean the same object."""
        name = obj.meta.name
        first = self._objects.get((kind, name))
        if first is not None and first[0] != obj:
            raise item.error(f"{kind} {name!r} is defined twice, differently (first at {first[1]})")
        if first is None:
            self._objects[(kind, name)] = (obj, item.where)
        return name

    def ref(self, kind: str, name: str, item: Item) -> str:
        self._refs.append((kind, name, item))
        return name

    def drop(self, item: Item, reason: str) -> None:
        self.not_carried.append(NotCarried(item.where, reason))

    def read(self, item: Item, reader: Callable[[Item, "Builder"], None]) -> None:
        """Run one object's reader; an error is kept and the next object is read."""
        try:
            reader(item, self)
        except SpecError as e:
            self.errors.append(e)

    def build(self) -> SpecSet:
        for kind, name, item in self._refs:
            if (kind, name) not in self._objects:
                self.errors.append(item.error(f"refers to {kind} {name!r}, which no file defines"))
        if self.errors:
            raise SpecErrors(self.errors)

        def of(kind: str) -> tuple[Any, ...]:
            return tuple(obj for (k, _), (obj, _) in sorted(self._objects.items()) if k == kind)

        return SpecSet(
            services=of("Service"),
            data_sources=of("DataSource"),
            slis=of("SLI"),
            slos=of("SLO"),
            alert_conditions=of("AlertCondition"),
            alert_policies=of("AlertPolicy"),
            notification_targets=of("AlertNotificationTarget"),
            not_carried=tuple(self.not_carried),
        )
