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
from typing import Any, Callable


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_PLAIN = (str, int, float, bool, type(None))


def encode(value: Any) -> Any:
    return _encoder(type(value))(value)


def _same(value: Any) -> Any:
    return value


@cache
def _encoder(cls: type) -> Callable[[Any], Any]:
    """How to encode a value of this type, found once per type (a read-model row encodes
    a whole state on every write)."""
    # Exact plain types first (the common case); a StrEnum is a str subclass, so it is
    # an Enum here and encodes as its value.
    if cls in _PLAIN:
        return _same
    if issubclass(cls, enum.Enum):
        return lambda value: value.value
    if issubclass(cls, (bool, int, float, str)):
        return _same
    if issubclass(cls, datetime):
        return _encode_datetime
    if dataclasses.is_dataclass(cls):
        names = _field_names(cls)
        return lambda value: {name: encode(getattr(value, name)) for name in names}
    if issubclass(cls, (tuple, list)):
        return lambda value: [encode(v) for v in value]
    if issubclass(cls, dict):
        return lambda value: {str(k): encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {cls.__name__}")


def _encode_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"cannot encode a naive datetime: {value!r}")
    return value.isoformat()


def decode(hint: Any, data: Any) -> Any:
    return _decoder(hint)(data)


# One decoding function per hint, built on first use by following the hint once: a state
# with a long negotiation history decodes thousands of nested values, and asking
# `typing` about every one of them cost more than the decoding itself.
_DECODERS: dict[Any, Callable[[Any], Any]] = {}


def _decoder(hint: Any) -> Callable[[Any], Any]:
    found = _DECODERS.get(hint)
    if found is None:
        # A hint that refers to itself is reached again while its decoder is built:
        # it then gets this forwarder, which finds the finished decoder when called.
        _DECODERS[hint] = lambda data: _DECODERS[hint](data)
        try:
            found = _DECODERS[hint] = _build(hint)
        except BaseException:
            del _DECODERS[hint]  # an unsupported hint fails the same way every time
            raise
    return found


def _build(hint: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _union(hint)
    if origin is tuple:
        return _tuple(hint)
    if origin is dict:
        value = _decoder(typing.get_args(hint)[1])
        return lambda data: {str(k): value(v) for k, v in _expect(dict, data).items()}
    if hint is Any:
        return lambda data: data
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if hint is datetime:
        return _datetime
    if hint is float:
        return _float
    if hint is int:
        return _int
    if hint in (str, bool):
        return lambda data: _expect(hint, data)
    if hint is type(None):
        return _none
    raise TypeError(f"cannot decode into {hint!r}")


def _expect(kind: type, data: Any) -> Any:
    if not isinstance(data, kind):
        raise ValueError(f"expected {kind.__name__}, got {data!r}")
    return data


def _datetime(data: Any) -> datetime:
    at = datetime.fromisoformat(_expect(str, data))
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {data!r}")
    return at


def _float(data: Any) -> float:
    # JSON writes 1.0 as 1 in some encoders; a float field stays a float.
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise ValueError(f"expected a number, got {data!r}")
    return float(data)


def _int(data: Any) -> int:
    if isinstance(data, bool):
        raise ValueError(f"expected an int, got {data!r}")
    return _expect(int, data)


def _none(data: Any) -> None:
    if data is not None:
        raise ValueError(f"expected null, got {data!r}")
    return None


def _union(hint: Any) -> Callable[[Any], Any]:
    args = typing.get_args(hint)
    arms = [a for a in args if a is not type(None)]
    nullable = len(arms) != len(args)
    # Which arm a JSON value came from is ambiguous; states avoid such unions.
    arm = _decoder(arms[0]) if len(arms) == 1 else None

    def decode_union(data: Any) -> Any:
        if data is None:
            if not nullable:
                raise ValueError(f"null is not allowed for {hint!r}")
            return None
        if arm is None:
            raise TypeError(f"cannot decode the union {hint!r}")
        return arm(data)

    return decode_union


def _tuple(hint: Any) -> Callable[[Any], tuple]:
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda data: tuple(map(item, _items(data)))
    items = [_decoder(a) for a in args]

    def decode_fixed(data: Any) -> tuple:
        values = _items(data)
        if len(items) != len(values):
            raise ValueError(f"expected {len(items)} items, got {len(values)}")
        return tuple(f(v) for f, v in zip(items, values))

    return decode_fixed


def _items(data: Any) -> list | tuple:
    return data if isinstance(data, tuple) else _expect(list, data)


@cache
def _field_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _dataclass(cls: type) -> Callable[[Any], Any]:
    hints = _field_hints(cls)
    names = frozenset(hints)
    fields = [(name, _decoder(h)) for name, h in hints.items()]

    def decode_dataclass(data: Any) -> Any:
        data = _expect(dict, data)
        # Strict both ways: an unknown or missing key means the snapshot and the code disagree.
        if data.keys() != names:
            unknown, missing = set(data) - names, names - set(data)
            raise ValueError(
                f"{cls.__name__}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}"
            )
        return cls(**{name: f(data[name]) for name, f in fields})

    return decode_dataclass
