"""The JSON text of a read-model row's document.

Documents are not hashed (the log's events are, with `eventstore.codec.canonical`), so
they need only be stable, so that a rebuild writes the bytes the live system wrote:
orjson with sorted keys, which is several times faster than the canonical encoder on
documents with nulls or floats. What orjson refuses (keys that are not strings, integers
beyond 64 bits) goes to the canonical encoder.
"""

from __future__ import annotations

from typing import Any

import orjson

from eventstore.codec import canonical


def doc_json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return canonical(value)
