"""Bearer tokens: issue, revoke, list, verify (the store the API authenticates against).

A token is ``slg_`` followed by 256 random bits (``secrets.token_urlsafe(32)``).
Only its SHA-256 is stored: the token is high-entropy, so a plain, unsalted hash
is enough (a slow password hash would only add latency to every request) and a
database leak does not reveal usable tokens. The text is shown once, when created.

``TokenVerifier`` keeps a small in-process cache (keyed by the hash, never the
token text) so the deploy gate does not pay a database round trip per request.
Consequence: **a revoked token keeps working for up to ``ttl_seconds`` (30 s by
default) in every API process that verified it recently.** Use ``ttl_seconds=0``
to disable the cache, or ``TokenVerifier.clear()`` after an in-process revocation.
WebSocket connections are authenticated once, at ``connection_init``; an already
open connection is not closed when its token is revoked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.text import problem as text_problem


ROLES: tuple[str, ...] = ("product", "sre", "engineering", "leadership", "auditor", "ci", "admin")
TOKEN_PREFIX = "slg_"
MAX_ACTOR_LENGTH = 200

# 43 url-safe characters for 32 random bytes; accept a little slack, refuse junk
# without touching the database.
_TOKEN_RE = re.compile(r"^slg_[A-Za-z0-9_\-]{20,100}$")

auth_metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    auth_metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("roles", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the actor recorded on events, and the roles they hold."""

    actor: str
    roles: frozenset[str]
    token_id: str

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token text nor its hash."""

    id: str
    actor: str
    roles: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    return bool(_TOKEN_RE.match(token))


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; we only ever store UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _require_aware(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(timezone.utc)


def validate_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise ValueError("actor must be a non-empty string")
    actor = actor.strip()
    if len(actor) > MAX_ACTOR_LENGTH:
        raise ValueError(f"actor must be at most {MAX_ACTOR_LENGTH} characters")
    why = text_problem(actor)  # the actor is recorded on every event the token sends
    if why is not None:
        raise ValueError(f"actor {why}")
    return actor


def validate_roles(roles: Iterable[str]) -> tuple[str, ...]:
    if isinstance(roles, str):
        raise ValueError("roles must be a list of role names, not a single string")
    seen: list[str] = []
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known roles: {', '.join(ROLES)}")
        if role not in seen:
            seen.append(role)
    if not seen:
        raise ValueError(f"at least one role is required; known roles: {', '.join(ROLES)}")
    return tuple(seen)


async def create_token(
    engine: AsyncEngine, actor: str, roles: Sequence[str], now: datetime
) -> tuple[str, str]:
    """Issue a token. Returns ``(token_id, token)``; the token text is not stored."""
    actor = validate_actor(actor)
    role_list = validate_roles(roles)
    created_at = _require_aware(now)
    token_id = "tok_" + secrets.token_hex(8)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(
            api_tokens.insert().values(
                id=token_id,
                token_hash=hash_token(token),
                actor=actor,
                roles=orjson.dumps(list(role_list)).decode(),
                created_at=created_at,
                revoked_at=None,
            )
        )
    return token_id, token


async def revoke_token(engine: AsyncEngine, token_id: str, now: datetime) -> bool:
    """Revoke a token. True if it was active, False if it was already revoked.

    Raises ``LookupError`` for an unknown id. Verifiers in running processes
    honour the revocation within their cache TTL.
    """
    revoked_at = _require_aware(now)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=revoked_at)
        )
        if result.rowcount:
            return True
        exists = await conn.scalar(select(api_tokens.c.id).where(api_tokens.c.id == token_id))
    if exists is None:
        raise LookupError(f"no token with id {token_id!r}")
    return False


async def list_tokens(engine: AsyncEngine) -> list[TokenInfo]:
    """Every token, oldest first, without hashes or secrets."""
    query = select(
        api_tokens.c.id,
        api_tokens.c.actor,
        api_tokens.c.roles,
        api_tokens.c.created_at,
        api_tokens.c.revoked_at,
    ).order_by(api_tokens.c.created_at, api_tokens.c.id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        TokenInfo(
            id=row.id,
            actor=row.actor,
            roles=tuple(_parse_roles(row.roles)),
            created_at=_aware(row.created_at),  # type: ignore[arg-type]
            revoked_at=_aware(row.revoked_at),
        )
        for row in rows
    ]


def _parse_roles(raw: str) -> list[str]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(value, list):
        return []
    # Unknown role names (written by another version) grant nothing.
    return [role for role in value if role in ROLES]


class TokenVerifier:
    """Resolve a bearer token to a ``Principal``, with a bounded TTL cache.

    Positive and negative answers are cached for ``ttl_seconds`` (negatives in a
    smaller separate cache, so a flood of bad tokens cannot evict good ones).
    Revocation therefore takes effect within ``ttl_seconds``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        ttl_seconds: float = 30,
        *,
        max_entries: int = 10_000,
        max_negative_entries: int = 1_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = float(ttl_seconds)
        self._max = max_entries
        self._max_negative = max_negative_entries
        self._clock = clock
        self._positive: dict[str, tuple[Principal, float]] = {}
        self._negative: dict[str, float] = {}

    @property
    def ttl_seconds(self) -> float:
        return self._ttl

    def clear(self) -> None:
        self._positive.clear()
        self._negative.clear()

    async def verify(self, token: str | None) -> Principal | None:
        if not token or not isinstance(token, str) or not looks_like_token(token):
            return None
        key = hash_token(token)
        now = self._clock()
        hit = self._positive.get(key)
        if hit is not None:
            if hit[1] > now:
                return hit[0]
            del self._positive[key]
        expires = self._negative.get(key)
        if expires is not None:
            if expires > now:
                return None
            del self._negative[key]

        principal = await self._load(key)

        if self._ttl > 0:
            expiry = self._clock() + self._ttl
            if principal is not None:
                self._store(self._positive, key, (principal, expiry), self._max)
            else:
                self._store(self._negative, key, expiry, self._max_negative)
        return principal

    def _store(self, cache: dict[str, Any], key: str, value: Any, limit: int) -> None:
        if key not in cache and len(cache) >= limit:
            now = self._clock()
            for k in [k for k, v in cache.items() if (v[1] if isinstance(v, tuple) else v) <= now]:
                del cache[k]
            while len(cache) >= limit:  # still full: drop the oldest insertions
                del cache[next(iter(cache))]
        cache[key] = value

    async def _load(self, key: str) -> Principal | None:
        query = select(api_tokens.c.id, api_tokens.c.actor, api_tokens.c.roles).where(
            api_tokens.c.token_hash == key, api_tokens.c.revoked_at.is_(None)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        roles = frozenset(_parse_roles(row.roles))
        if not roles:
            return None
        return Principal(actor=row.actor, roles=roles, token_id=row.id)


__all__ = [
    "ROLES",
    "Principal",
    "TokenInfo",
    "TokenVerifier",
    "api_tokens",
    "auth_metadata",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]
