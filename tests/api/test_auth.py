"""Tokens: issue, list, revoke, verify with a bounded TTL cache; resolver helpers."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from api.auth import (
    ROLES,
    Principal,
    TokenVerifier,
    api_tokens,
    create_token,
    current_principal,
    list_tokens,
    require_roles,
    revoke_token,
)
from domain.errors import Forbidden, Unauthenticated

from .conftest import NOW, make_engine


@pytest.fixture
async def engine(tmp_path):
    engine = await make_engine(tmp_path / "tokens.db")
    yield engine
    await engine.dispose()


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_table_has_exactly_the_agreed_columns():
    cols = {c.name: c for c in api_tokens.columns}
    assert list(cols) == ["id", "token_hash", "actor", "roles", "created_at", "revoked_at"]
    assert cols["id"].primary_key and cols["id"].type.length == 32
    assert cols["token_hash"].unique and not cols["token_hash"].nullable
    assert cols["token_hash"].type.length == 64
    assert cols["actor"].type.length == 200 and not cols["actor"].nullable
    assert not cols["roles"].nullable
    assert cols["created_at"].type.timezone and not cols["created_at"].nullable
    assert cols["revoked_at"].type.timezone and cols["revoked_at"].nullable
    assert ROLES == ("product", "sre", "engineering", "leadership", "auditor", "ci", "admin")


async def test_token_is_stored_only_as_its_sha256(engine):
    token_id, token = await create_token(engine, "alice", ["sre"], NOW)
    assert token.startswith("slg_") and len(token) >= 40
    assert len(token_id) <= 32
    async with engine.connect() as conn:
        row = (await conn.execute(select(api_tokens))).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(tuple(row))
    assert row.actor == "alice"


async def test_tokens_are_unique(engine):
    tokens = {(await create_token(engine, "a", ["ci"], NOW))[1] for _ in range(20)}
    assert len(tokens) == 20


@pytest.mark.parametrize(
    "actor, roles, message",
    [
        ("", ["sre"], "actor"),
        ("   ", ["sre"], "actor"),
        ("x" * 201, ["sre"], "200"),
        ("alice", [], "at least one role"),
        ("alice", ["root"], "unknown role 'root'"),
        ("alice", "sre", "list"),
    ],
)
async def test_create_token_validates(engine, actor, roles, message):
    with pytest.raises(ValueError, match=message):
        await create_token(engine, actor, roles, NOW)
    assert await list_tokens(engine) == []


async def test_create_token_needs_an_aware_time(engine):
    with pytest.raises(ValueError, match="timezone"):
        await create_token(engine, "alice", ["sre"], datetime(2025, 1, 1))


async def test_list_tokens_shows_no_secrets(engine):
    id1, t1 = await create_token(engine, "alice", ["sre", "product", "sre"], NOW)
    id2, t2 = await create_token(engine, "bot", ["ci"], NOW + timedelta(seconds=1))
    await revoke_token(engine, id1, NOW + timedelta(minutes=5))
    listed = await list_tokens(engine)
    assert [t.id for t in listed] == [id1, id2]
    assert listed[0].roles == ("sre", "product")
    assert listed[0].revoked_at == NOW + timedelta(minutes=5)
    assert listed[0].created_at == NOW
    assert not listed[0].active and listed[1].active
    text = repr(listed)
    for secret in (t1, t2, hashlib.sha256(t1.encode()).hexdigest()):
        assert secret not in text
    assert not hasattr(listed[0], "token_hash")


async def test_revoke(engine):
    token_id, token = await create_token(engine, "alice", ["sre"], NOW)
    assert await revoke_token(engine, token_id, NOW) is True
    assert await revoke_token(engine, token_id, NOW) is False  # already revoked
    with pytest.raises(LookupError):
        await revoke_token(engine, "tok_nope", NOW)
    assert await TokenVerifier(engine, ttl_seconds=0).verify(token) is None


async def test_verify(engine):
    token_id, token = await create_token(engine, "alice", ["leadership", "auditor"], NOW)
    verifier = TokenVerifier(engine, ttl_seconds=0)
    assert await verifier.verify(token) == Principal(
        "alice", frozenset({"leadership", "auditor"}), token_id
    )
    for junk in (None, "", "slg_", "Bearer " + token, token + "x", token[:-1], "slg_" + "é" * 43):
        assert await verifier.verify(junk) is None


async def test_cache_serves_until_ttl_then_sees_revocation(engine):
    token_id, token = await create_token(engine, "alice", ["sre"], NOW)
    clock = FakeClock()
    verifier = TokenVerifier(engine, ttl_seconds=30, clock=clock)
    assert (await verifier.verify(token)).actor == "alice"
    await revoke_token(engine, token_id, NOW)
    clock.t += 29
    assert (await verifier.verify(token)).actor == "alice"  # cached: documented lag
    clock.t += 2
    assert await verifier.verify(token) is None  # TTL passed: revocation seen
    # clear() drops the cache at once
    id2, token2 = await create_token(engine, "bob", ["ci"], NOW)
    assert await verifier.verify(token2) is not None
    await revoke_token(engine, id2, NOW)
    verifier.clear()
    assert await verifier.verify(token2) is None


async def test_cache_avoids_the_database(engine):
    _, token = await create_token(engine, "alice", ["sre"], NOW)
    verifier = TokenVerifier(engine, ttl_seconds=30)
    assert await verifier.verify(token) is not None
    await engine.dispose()
    calls = 0
    original = verifier._load

    async def counting(key):
        nonlocal calls
        calls += 1
        return await original(key)

    verifier._load = counting  # type: ignore[method-assign]
    for _ in range(100):
        assert (await verifier.verify(token)).actor == "alice"
    assert calls == 0


async def test_cache_is_bounded(engine):
    _, token = await create_token(engine, "alice", ["sre"], NOW)
    clock = FakeClock()
    verifier = TokenVerifier(engine, ttl_seconds=30, max_entries=5, max_negative_entries=3, clock=clock)
    assert await verifier.verify(token) is not None
    for i in range(50):
        assert await verifier.verify(f"slg_{i:043d}") is None
    assert len(verifier._negative) <= 3
    assert len(verifier._positive) == 1  # bad tokens never evict good ones
    ids = [await create_token(engine, f"u{i}", ["ci"], NOW) for i in range(10)]
    for _, t in ids:
        assert await verifier.verify(t) is not None
    assert len(verifier._positive) <= 5


class _Info:
    def __init__(self, context):
        self.context = context


def test_current_principal_and_require_roles():
    p = Principal("alice", frozenset({"sre"}), "tok_1")
    info = _Info({"principal": p})
    assert current_principal(info) is p
    assert current_principal({"principal": p}) is p
    assert require_roles(info, "sre", "admin") is p
    with pytest.raises(Forbidden) as exc:
        require_roles(info, "admin")
    assert exc.value.code == "FORBIDDEN"
    with pytest.raises(Unauthenticated):
        current_principal(_Info({"principal": None}))
