"""JSON-safe encoding of domain states (snapshots, read models, API payloads).

States are frozen dataclasses with type hints. `encode` turns one into plain JSON
data (dicts, lists, str, int, float, bool, None; datetimes as ISO 8601 with their
zone; enums as their value) and `decode(cls, data)` rebuilds it by following the
same hints, so `decode(type(s), encode(s)) == s` holds for every state without a
hand-written codec per class that could forget a field.

Supported hints: str, int, float, bool, None, datetime, Enum subclasses, frozen
dataclasses, `X | None`, `tuple[X, ...]`, `dict[str, X]`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_PLAIN = (str, int, float, bool, type(None))


def encode(value: Any) -> Any:
    # Exact types first (the common case); a StrEnum is a str subclass, so it
    # fails this test and is converted below.
    if type(value) in _PLAIN:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"cannot encode a naive datetime: {value!r}")
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: encode(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _decode_union(hint, data)
    if origin is tuple:
        return _decode_tuple(hint, data)
    if origin is dict:
        _, value_hint = typing.get_args(hint)
        return {str(k): decode(value_hint, v) for k, v in _expect(dict, data).items()}
    if hint is Any:
        return data
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, data)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if hint is datetime:
        at = datetime.fromisoformat(_expect(str, data))
        if at.tzinfo is None:
            raise ValueError(f"naive datetime {data!r}")
        return at
    if hint is float:
        # JSON writes 1.0 as 1 in some encoders; a float field stays a float.
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise ValueError(f"expected a number, got {data!r}")
        return float(data)
    if hint is int and isinstance(data, bool):
        raise ValueError(f"expected an int, got {data!r}")
    if hint in (int, str, bool):
        return _expect(hint, data)
    if hint is type(None):
        if data is not None:
            raise ValueError(f"expected null, got {data!r}")
        return None
    raise TypeError(f"cannot decode into {hint!r}")


def _expect(kind: type, data: Any) -> Any:
    if not isinstance(data, kind):
        raise ValueError(f"expected {kind.__name__}, got {data!r}")
    return data


def _decode_union(hint: Any, data: Any) -> Any:
    arms = [a for a in typing.get_args(hint) if a is not type(None)]
    if data is None:
        if len(arms) == len(typing.get_args(hint)):
            raise ValueError(f"null is not allowed for {hint!r}")
        return None
    if len(arms) != 1:
        # Which arm a JSON value came from is ambiguous; states avoid such unions.
        raise TypeError(f"cannot decode the union {hint!r}")
    return decode(arms[0], data)


def _decode_tuple(hint: Any, data: Any) -> tuple:
    args = typing.get_args(hint)
    items = _expect(list, data) if not isinstance(data, tuple) else list(data)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(decode(args[0], v) for v in items)
    if len(args) != len(items):
        raise ValueError(f"expected {len(args)} items, got {len(items)}")
    return tuple(decode(a, v) for a, v in zip(args, items))


@cache
def _field_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _decode_dataclass(cls: type, data: Any) -> Any:
    data = _expect(dict, data)
    hints = _field_hints(cls)
    # Strict both ways: an unknown or missing key means the snapshot and the code disagree.
    unknown = set(data) - set(hints)
    missing = set(hints) - set(data)
    if unknown or missing:
        raise ValueError(
            f"{cls.__name__}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}"
        )
    return cls(**{name: decode(h, data[name]) for name, h in hints.items()})
