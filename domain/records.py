"""`replace` for the domain's frozen state dataclasses, without re-running __init__.

`dataclasses.replace` rebuilds the object through __init__, which dominates the
cost of folding a long log. States here have no __post_init__ and no slots, so
copying their field dict and overriding some entries gives the same object.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def replace(obj: T, **changes: Any) -> T:
    fields = obj.__dict__
    if not changes.keys() <= fields.keys():
        unknown = ", ".join(sorted(changes.keys() - fields.keys()))
        raise TypeError(f"{type(obj).__name__} has no field(s) {unknown}")
    new = object.__new__(type(obj))
    object.__setattr__(new, "__dict__", {**fields, **changes})
    return new
