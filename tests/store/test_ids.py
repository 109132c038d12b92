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


def test_a_forked_child_does_not_draw_the_parents_random_bits():
    import os

    ids.new_id()  # the pool holds bits the parent has not used yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id's random bits, to the parent
        try:
            os.write(write, uuid.UUID(ids.new_id()).int.to_bytes(16, "big")[8:])
        finally:
            os._exit(0)
    os.close(write)
    child_low = int.from_bytes(os.read(read, 8), "big")
    os.waitpid(pid, 0)
    os.close(read)
    parent_low = uuid.UUID(ids.new_id()).int & ((1 << 64) - 1)
    assert child_low != parent_low
