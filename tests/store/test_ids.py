"""Ids from the buffered random source are RFC 4122 version 4 UUIDs, never repeated."""

from __future__ import annotations

import uuid

from eventstore import ids


def test_ids_are_version_4_uuids_in_canonical_form_and_distinct_across_refills():
    drawn = [ids.new_id() for _ in range(3 * ids._REFILL // 16 + 7)]  # several refills
    assert len(set(drawn)) == len(drawn)
    for text in drawn:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_every_random_bit_varies():
    # 122 bits are random: over many ids each one takes both values (the fixed six never do).
    drawn = [uuid.UUID(ids.new_id()).int for _ in range(2000)]
    ones = [sum((n >> bit) & 1 for n in drawn) for bit in range(128)]
    varying = sum(1 for count in ones if 0 < count < len(drawn))
    assert varying == 122
