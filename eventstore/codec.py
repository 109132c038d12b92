"""Canonical encoding and the hash chain.

The canonical form is what an auditor can recompute with any standard JSON
library: keys sorted, no insignificant whitespace, UTF-8 (not \\u-escaped), no
NaN or Infinity. Python's stdlib `json` produces it exactly; orjson does not
(it writes 1e-05 as 0.00001), so orjson is used only for decoding.

    hash(n) = sha256_hex(canonical([hash(n-1), position, event_id, stream_id,
                                    stream_version, type, schema_version,
                                    recorded_at, data, metadata]))

with hash(0) = 64 zeros and recorded_at as ISO 8601 UTC with microseconds.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

GENESIS_HASH = "0" * 64

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical(value: Any) -> str:
    return _encoder.encode(value)


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
