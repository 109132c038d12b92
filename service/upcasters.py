"""Registers the domain's upcasters with the store's registry."""

from __future__ import annotations

from domain.upcasters import UPCASTERS
from eventstore.upcasting import Upcasters


def register_upcasters(registry: Upcasters) -> None:
    for type_, from_version, step in UPCASTERS:
        registry.register(type_, from_version, step)
