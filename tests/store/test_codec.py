"""The canonical encoding is the stdlib's, byte for byte, whichever encoder wrote it:
auditors recompute the hash chain with stdlib `json`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore.codec import canonical, storable

STDLIB = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text() | st.text(alphabet="ab.e+-0123456789\\\"\n\x00\x1f\u2028é𝄞")
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=6), inner, max_size=5),
    max_leaves=25,
)


def stdlib(value):
    try:
        return STDLIB.encode(value)
    except (TypeError, ValueError) as error:
        return type(error)


def ours(value):
    try:
        return canonical(value)
    except (TypeError, ValueError) as error:
        return type(error)


@settings(max_examples=300, deadline=None)
@given(values)
def test_canonical_equals_the_stdlib_encoding(value):
    assert ours(value) == stdlib(value)


def test_the_budget_event_shape_and_refusals():
    data = {"objective_id": "obj-0001", "backfill": False, "runs": [
        {"start": "2026-11-30T04:00:00+00:00", "step_us": 60_000_000, "good": [19_998], "total": [20_000]}]}
    assert canonical(data) == STDLIB.encode(data)
    for value in ({"a": float("nan")}, {1: "x", "b": 2}, {"x": 1e-05}, {"x": 10**40}, ["a\u0000b"], {"é": 1, "e": 2}):
        assert ours(value) == stdlib(value), value


def test_marks_inside_strings_do_not_hide_a_float_or_null_outside_them():
    # An ISO time's "." and a uuid's "e-" sit in strings; a float or null beside them must
    # still go to the stdlib (orjson spells 1e-05 and NaN differently).
    for value in (["2026-11-30T04:00:00.000001+00:00", "3fae-41", 7],
                  ["2026-11-30T04:00:00.000001+00:00", 1e-05], {"id": "ab3e-4c", "x": None},
                  {"s": "null", "n": 1}, {"s": "x.y", "f": float("nan")}, ["e+", 1e16]):
        assert ours(value) == stdlib(value), value


def test_event_metadata_with_nulls_takes_the_fast_path_and_a_hidden_nan_does_not():
    meta = {"actor": "ci-bot", "role": "ci", "reason": None, "idempotency_key": None, "attempt": 2, "dry": False}
    assert canonical(meta) == STDLIB.encode(meta)
    # orjson writes NaN and infinity as null: beside a None they must still be refused.
    for value in ({"reason": None, "x": float("nan")}, {"reason": None, "x": float("inf")},
                  {"reason": None, "nested": [float("nan")]}, [None, float("nan")]):
        assert ours(value) is ValueError, value


def test_flat_metadata_with_nulls_is_encoded_without_the_stdlib(monkeypatch):
    from eventstore import codec

    class Refuse:
        def encode(self, value):
            raise AssertionError("stdlib encoder used")

    monkeypatch.setattr(codec, "_encoder", Refuse())
    assert canonical({"actor": "a", "reason": None, "n": 3}) == '{"actor":"a","n":3,"reason":null}'


marked = st.text(alphabet="ab.e+-nul0\"", max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(marked, max_size=30), st.sampled_from([None, 1e-05, 1e16, 2.5, float("nan"), 7, "x"]),
       st.integers(0, 30), st.booleans())
def test_marks_are_placed_in_or_out_of_strings_few_or_many(texts, extra, where, flat):
    # Few marks are placed by counting quotes, more than `_FEW_MARKS` by stripping strings:
    # either way a float or null outside the strings goes to the stdlib.
    if flat:
        value = {f"k{n}": t for n, t in enumerate(texts)} | {"z": extra}
    else:
        value = [*texts[:where], extra, *texts[where:]]
    assert ours(value) == stdlib(value)


def test_a_long_batch_whose_id_holds_a_mark_is_written_by_orjson(monkeypatch):
    from eventstore import codec

    class Refuse:
        def encode(self, value):
            raise AssertionError("stdlib encoder used")

    # A baseline's 28 days of minutes, one run: written by orjson and kept without a
    # Python walk over its 80,640 counts.
    data = {"objective_id": "baseline-0", "backfill": True, "runs": [
        {"start": "2026-01-05T00:00:00+00:00", "step_us": 60_000_000, "good": [m % 7 for m in range(40_320)],
         "total": [9] * 40_320}]}
    expected = STDLIB.encode(data)
    monkeypatch.setattr(codec, "_encoder", Refuse())
    monkeypatch.setattr(codec, "_unstorable", lambda value, path: pytest.fail("walked value by value"))
    assert canonical(data) == expected and storable(data) == expected
