"""A tiny real schema and app over a temporary SQLite file, for the API shell tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from strawberry.types import Info

from api.auth import TokenVerifier, auth_metadata, create_token, current_principal, require_roles
from api.http import create_app
from api.limits import graphql_extensions
from api.metrics import Metrics
from domain.errors import Conflict, NotFound, PolicyViolation
from service.config import Settings

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

TEST_SETTINGS = Settings(
    database_url="sqlite+aiosqlite://",
    max_query_depth=4,
    max_aliases=3,
    max_query_tokens=200,
)


@strawberry.type
class Viewer:
    actor: str
    roles: list[str]
    correlation_id: str


@strawberry.type
class Node:
    name: str = "n"

    @strawberry.field
    def child(self) -> "Node":
        return Node()


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        principal = current_principal(info)
        return Viewer(
            actor=principal.actor,
            roles=sorted(principal.roles),
            correlation_id=info.context["correlation_id"],
        )

    @strawberry.field
    def item(self, id: int) -> str:
        return f"item-{id}"

    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def missing(self) -> str:
        raise NotFound("Journey j-1 not found", journey_id="j-1")

    @strawberry.field
    def stale(self) -> str:
        raise Conflict("Stale expected version", expected_version=3, actual_version=4)

    @strawberry.field
    def gated(self) -> str:
        raise PolicyViolation("Instrumentation gap open", at=NOW)

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError("secret detail")

    @strawberry.field
    def admin_only(self, info: Info) -> str:
        return require_roles(info, "admin").actor


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, info: Info, count: int = 2) -> AsyncGenerator[str, None]:
        actor = current_principal(info).actor
        for i in range(count):
            yield f"{actor}:{i}"


def make_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, subscription=Subscription, extensions=graphql_extensions(settings)
    )


@dataclasses.dataclass
class FakeContainer:
    settings: Settings
    read_engine: AsyncEngine
    verifier: TokenVerifier
    bus: Any = None
    metrics: Metrics = dataclasses.field(default_factory=Metrics)
    started: int = 0
    stopped: int = 0

    async def startup(self) -> None:
        self.started += 1

    async def shutdown(self) -> None:
        self.stopped += 1


async def make_engine(path) -> AsyncEngine:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(auth_metadata.create_all)
    return engine


@dataclasses.dataclass
class Env:
    client: httpx.AsyncClient
    app: Any
    container: FakeContainer
    engine: AsyncEngine
    token: str
    token_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def gql(self, query: str, variables: dict | None = None, token: str | None = None, **kw):
        headers = {"Authorization": f"Bearer {token or self.token}", **kw.pop("headers", {})}
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=headers, **kw)


async def build_env(tmp_path, **overrides) -> AsyncGenerator[Env, None]:
    ttl = overrides.pop("ttl_seconds", 0)
    settings = dataclasses.replace(TEST_SETTINGS, **overrides)
    engine = await make_engine(tmp_path / "auth.db")
    token_id, token = await create_token(engine, "alice@example.com", ["sre", "product"], NOW)
    container = FakeContainer(settings, engine, TokenVerifier(engine, ttl_seconds=ttl))
    app = create_app(make_schema(settings), container)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Env(client, app, container, engine, token, token_id)
    finally:
        await engine.dispose()


@pytest.fixture
async def env(tmp_path) -> AsyncGenerator[Env, None]:
    async for e in build_env(tmp_path):
        yield e


@pytest.fixture
async def env_open(tmp_path) -> AsyncGenerator[Env, None]:
    """Introspection on (the default)."""
    async for e in build_env(tmp_path, introspection=True):
        yield e


@pytest.fixture
async def env_closed(tmp_path) -> AsyncGenerator[Env, None]:
    """Introspection and GraphiQL off, as in production."""
    async for e in build_env(tmp_path, introspection=False, graphiql=False):
        yield e


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]
