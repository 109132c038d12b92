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
import re
from datetime import datetime, timezone
from typing import Any

import orjson

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
    try:
        out = orjson.dumps(value, default=_refuse, option=_ORJSON_OPTIONS)
    except TypeError:
        return _encoder.encode(value)
    if b"\\" in out:
        return _encoder.encode(value)
    # Plain substring tests first (memchr speed): a push's 5 KB of intervals usually has none.
    if b"." in out or b"null" in out or b"e+" in out or b"e-" in out:
        bare = _STRINGS.sub(b"", out)
        if _FLOAT_MARKS.search(bare) is not None:
            return _encoder.encode(value)
        if b"null" in bare and not _flat_without_floats(value):
            return _encoder.encode(value)
    return out.decode("utf-8")


_PLAIN = frozenset({str, int, bool, type(None)})


def _flat_without_floats(value: Any) -> bool:
    """A dict of plain scalars (event metadata): its nulls are Nones, not a NaN or an infinity."""
    return type(value) is dict and all(type(v) in _PLAIN for v in value.values())


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
    head = canonical(
        [prev_hash, position, event_id, stream_id, stream_version, type_, schema_version, recorded_at]
    )
    record = f"{head[:-1]},{data_json},{metadata_json}]"
    return hashlib.sha256(record.encode("utf-8")).hexdigest()
