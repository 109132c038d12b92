"""Ids are RFC 9562 version 7 UUIDs: time-ordered, random below the time, never repeated."""

from __future__ import annotations

import time
import uuid

from eventstore import ids


def test_ids_are_version_7_uuids_in_canonical_form_and_distinct_across_refills():
    drawn = [ids.new_id() for _ in range(3 * ids._REFILL // 8 + 7)]  # several refills
    assert len(set(drawn)) == len(drawn)
    for text in drawn:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_the_leading_bits_are_the_creation_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    at = uuid.UUID(ids.new_id()).int >> 80
    assert before <= at <= time.time_ns() // 1_000_000


def test_ids_drawn_later_sort_later():
    # What keeps an index's inserts at its right edge: the text sorts as the time does.
    first = ids.new_id()
    time.sleep(0.002)
    assert ids.new_id() > first


def test_every_random_bit_varies():
    # The low 62 bits are random: over many ids each one takes both values.
    drawn = [uuid.UUID(ids.new_id()).int for _ in range(2000)]
    ones = [sum((n >> bit) & 1 for n in drawn) for bit in range(62)]
    assert all(0 < count < len(drawn) for count in ones)
