"""Canonical encoding and the hash chain.

The canonical form is what an auditor can recompute with any standard JSON
library: keys sorted, no insignificant whitespace, UTF-8 (not \\u-escaped), no
NaN or Infinity. Python's stdlib `json` produces it exactly; orjson does not in
general (it writes 1e-05 as 0.00001), so `canonical` takes orjson's output only
where it is provably identical (no floats, escapes or nulls) and the stdlib's
otherwise; a property test holds the two to the same bytes.

    hash(n) = sha256_hex(canonical([hash(n-1), position, event_id, stream_id,
                                    stream_version, type, schema_version,
                                    recorded_at, data, metadata]))

with hash(0) = 64 zeros and recorded_at as ISO 8601 UTC with microseconds.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import datetime, timezone
from typing import Any

import orjson

from domain.text import problem as text_problem

GENESIS_HASH = "0" * 64

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


# orjson's output is used only when it is provably the stdlib's, byte for byte: keys
# sorted (orjson compares UTF-8 bytes, which orders like code points), no escapes (so no
# string needed one, and raw UTF-8 is what ensure_ascii=False writes too), no floats
# (their spelling differs), no null (orjson writes NaN as null where the stdlib refuses)
# unless the value is a flat dict with no float in it, so every null is a None.
# Anything else, or anything orjson refuses (big ints, non-str keys, str/int subclasses,
# datetimes, dataclasses), goes to the stdlib encoder.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
# Every float orjson writes has a "." or an exponent sign ("1.0", "1e-7", "1e+16").
# Without backslashes in the output every string is a quote, non-quotes, a quote; what is
# left once they are removed is structure, integers, true, false, floats and null. Strings
# often hold the marks (an ISO time's ".", a uuid's "e-"), so they are judged outside them.
_STRINGS = re.compile(rb'"[^"]*"')
_FLOAT_MARKS = re.compile(rb"\.|e[+-]")


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def canonical(value: Any) -> str:
    return _encode(value, _ORJSON_OPTIONS)[0]


def _encode(value: Any, options: int) -> tuple[str, bool]:
    """The canonical text, and whether orjson wrote it (so it holds no escape)."""
    try:
        out = orjson.dumps(value, default=_refuse, option=options)
    except TypeError:
        return _encoder.encode(value), False
    if b"\\" in out:
        return _encoder.encode(value), False
    if _flat_without_floats(value):  # event metadata: every null is a None, no float to spell
        return out.decode("utf-8"), True
    # Each mark found with a substring search (a push's 5 KB of intervals usually has none);
    # a few are placed by counting quotes, many by stripping every string once.
    floats = _outside_strings(out, (b".", b"e+", b"e-"))
    nulls = _outside_strings(out, (b"null",))
    if floats is None or nulls is None:
        bare = _STRINGS.sub(b"", out)
        floats = _FLOAT_MARKS.search(bare) is not None
        nulls = b"null" in bare
    if floats or (nulls and not _flat_without_floats(value)):
        return _encoder.encode(value), False
    return out.decode("utf-8"), True


_FEW_MARKS = 16


def _outside_strings(out: bytes, marks: tuple[bytes, ...]) -> bool | None:
    """Whether any of `marks` occurs outside a string in `out` (orjson's output, without
    backslashes, so a position is inside a string exactly when an odd number of quotes
    precede it -- or follow it: the quotes are balanced); None past `_FEW_MARKS`
    occurrences. A 3 MB batch of intervals whose objective id holds an "e-" is one count
    of the quotes on the shorter side, not a pass of `_STRINGS` over it all."""
    found = []
    for mark in marks:
        at = out.find(mark)
        while at >= 0:
            if len(found) == _FEW_MARKS:
                return None
            found.append(at)
            at = out.find(mark, at + 1)
    half = len(out) // 2
    for at in found:
        quotes = out.count(b'"', 0, at) if at <= half else out.count(b'"', at)
        if quotes % 2 == 0:
            return True
    return False


# --- what the log keeps -----------------------------------------------------------
#
# Every value appended must read back as itself on both databases: integers within 64
# bits (orjson, the reader, turns larger ones into floats; read models keep them in
# BIGINT columns), finite floats (the stdlib refuses NaN and infinities), and text under
# the text rule (`domain.text`: PostgreSQL cannot hold U+0000; an unpaired surrogate
# cannot be written as UTF-8 at all).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# orjson's fast path, strict: an integer beyond 2^53 goes to the checked slow path.
_STRICT_OPTIONS = _ORJSON_OPTIONS | orjson.OPT_STRICT_INTEGER
# What orjson writes raw that the text rule refuses (it escapes the C0 controls, which
# sends the text to the slow path, and refuses surrogates).
_RAW_CONTROLS = re.compile("[\x7f-\x9f]")


class Unstorable(ValueError):
    """A value the log would not read back as itself."""


def storable(value: Any) -> str:
    """`canonical(value)` for a value the log keeps; `Unstorable` says why one cannot be kept.

    The common case costs one scan: orjson's output without escapes, big integers or
    non-ASCII text is storable as it is. Anything else is checked value by value.
    """
    text, fast = _encode(value, _STRICT_OPTIONS)
    if fast and (text.isascii() or _RAW_CONTROLS.search(text) is None):
        return text
    why = _unstorable(value, "")
    if why is not None:
        raise Unstorable(why)
    return text


def _unstorable(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        why = text_problem(value)
        return None if why is None else f"{path or 'a text'} {why}"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return f"{path or 'a number'} is {value}, beyond 64-bit integers"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path or 'a number'} is not finite"
    if isinstance(value, dict):
        for key, item in value.items():
            why = _unstorable(key, f"a key of {path}" if path else "a key") or _unstorable(item, f"{path}.{key}" if path else str(key))
            if why is not None:
                return why
        return None
    if isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            why = _unstorable(item, f"{path}[{n}]")
            if why is not None:
                return why
    return None


_PLAIN = frozenset({str, int, bool, type(None)})


def _flat_without_floats(value: Any) -> bool:
    """A dict of plain scalars (event metadata): its nulls are Nones, not a NaN or an infinity."""
    return type(value) is dict and _PLAIN.issuperset(map(type, value.values()))


def iso(at: datetime) -> str:
    """recorded_at as the chain hashes it: UTC, microseconds, explicit offset."""
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def chain_hash(
    prev_hash: str,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    type_: str,
    schema_version: int,
    recorded_at: str,
    data_json: str,
    metadata_json: str,
) -> str:
    # data_json and metadata_json are already canonical, so they are spliced in
    # as they are stored: the same bytes a verifier re-encodes from the parsed values.
    head = _head([prev_hash, position, event_id, stream_id, stream_version, type_, schema_version, recorded_at])
    record = f"{head[:-1]},{data_json},{metadata_json}]"
    return hashlib.sha256(record.encode("utf-8")).hexdigest()


def _head(values: list[Any]) -> str:
    """`canonical(values)` for the chain's head, a list of texts and integers: with no
    float in it (the one value orjson spells differently) orjson's bytes are the stdlib's
    unless it escaped something, so `canonical`'s search for floats and nulls, made in
    any value, is skipped (once per event appended)."""
    if _PLAIN.issuperset(map(type, values)):
        out = orjson.dumps(values)
        if b"\\" not in out:
            return out.decode("utf-8")
    return canonical(values)
