"""Idempotency keys through the API: a retry appends nothing and returns the first result."""

from __future__ import annotations

from .conftest import journey_input


async def test_same_key_replays_the_first_result(api):
    input = {**journey_input("j1"), "idempotencyKey": "create-j1"}
    first = await api.mutate("proposeJourney", input, role="product")
    assert first["replayed"] is False
    head = await api.head()
    again = await api.mutate("proposeJourney", input, role="product")
    assert again["replayed"] is True
    assert again["events"] == first["events"]
    assert again["journey"] == first["journey"]
    assert await api.head() == head


async def test_same_key_different_input_is_a_conflict(api):
    await api.mutate("proposeJourney", {**journey_input("j1"), "idempotencyKey": "k"}, role="product")
    code, error = await api.fail("proposeJourney", {**journey_input("j1", name="Other"), "idempotencyKey": "k"},
                                 role="product")
    assert code == "CONFLICT"
    assert error["extensions"]["idempotency_key"] == "k"


async def test_idempotency_key_is_bounded(api):
    code, _ = await api.fail("proposeJourney", {**journey_input("j1"), "idempotencyKey": "x" * 201}, role="product")
    assert code == "BAD_USER_INPUT"
    code, _ = await api.fail("proposeJourney", {**journey_input("j1"), "idempotencyKey": ""}, role="product")
    assert code == "BAD_USER_INPUT"
