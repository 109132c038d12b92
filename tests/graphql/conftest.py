"""Drive the real schema and app over the `container` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from api.auth import create_token
from api.http import create_app
from api.schema import build_schema

ROLES = ("product", "sre", "engineering", "leadership", "auditor", "ci", "admin")

JOURNEY_FIELDS = "id version status tier owner name"
OBJECTIVE_FIELDS = """id version status informational agreedTarget owners
  proposals { id target revision status awaiting positions { party stance objection actor revision } }
  negotiationHistory { kind actor role proposalId detail at }"""
EVENTS = "events { position type streamId streamVersion } replayed"


@dataclasses.dataclass
class Api:
    client: httpx.AsyncClient
    container: Any
    tokens: dict[str, str]

    async def post(self, query: str, variables: dict | None = None, role: str | None = "sre") -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        return response.json()

    async def ok(self, query: str, variables: dict | None = None, role: str = "sre") -> dict:
        body = await self.post(query, variables, role)
        assert not body.get("errors"), body
        return body["data"]

    async def mutate(self, name: str, input: dict, role: str = "sre", entity: str | None = None) -> dict:
        entity = entity or ("objective" if "objectiveId" in input else "journey")
        fields = OBJECTIVE_FIELDS if entity == "objective" else JOURNEY_FIELDS
        query = f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{ {entity} {{ {fields} }} {EVENTS} }} }}"
        return (await self.ok(query, {"input": input}, role))[name]

    async def fail(self, name: str, input: dict, role: str = "sre") -> tuple[str, dict]:
        """Run a mutation that must be refused; return (code, error) and check nothing was appended."""
        before = await self.head()
        query = f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{ replayed }} }}"
        body = await self.post(query, {"input": input}, role)
        assert body.get("errors"), body
        assert await self.head() == before, "a refused command moved the log head"
        error = body["errors"][0]
        return error["extensions"]["code"], error

    async def head(self) -> int:
        position, _ = await self.container.store.head()
        return position


@pytest.fixture
async def api(container) -> Api:
    now = datetime.now(timezone.utc)
    tokens = {}
    for role in ROLES:
        _, tokens[role] = await create_token(container.engines.write, f"{role}-person", [role], now)
    app = create_app(build_schema(container.settings), container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, container, tokens)


def journey_input(journey_id: str, **overrides: Any) -> dict:
    data = {
        "journeyId": journey_id,
        "name": f"Journey {journey_id}",
        "description": "A shopper completes the thing.",
        "steps": ["start", "middle", "end"],
        "startsAt": "cart page",
        "endsAt": "confirmation page",
        "successCriteria": "done within 5 seconds",
        "owner": "checkout-team",
        "tier": 1,
        "revenueImpact": "all revenue",
        "supportVolume": 42,
    }
    data.update(overrides)
    return data


def objective_input(objective_id: str, journey_id: str) -> dict:
    return {
        "objectiveId": objective_id,
        "journeyId": journey_id,
        "name": "Checkout succeeds",
        "sli": {"kind": "AVAILABILITY", "description": "orders / attempts"},
        "window": {"kind": "ROLLING", "days": 30},
        "budgeting": {"method": "OCCURRENCES"},
    }


def baseline_input(objective_id: str, **overrides: Any) -> dict:
    now = datetime.now(timezone.utc)
    data = {
        "objectiveId": objective_id,
        "periodStart": (now - timedelta(days=31)).isoformat(),
        "periodEnd": (now - timedelta(days=1)).isoformat(),
        "good": 9_991_200,
        "total": 10_000_000,
        "notes": "load balancer logs",
    }
    data.update(overrides)
    return data


async def prioritized_journey(api: Api, journey_id: str, **overrides: Any) -> None:
    await api.mutate("proposeJourney", journey_input(journey_id, **overrides), role="product")
    await api.mutate(
        "prioritizeJourney",
        {"journeyId": journey_id, "priority": 1, "tier": overrides.get("tier", 1), "rationale": "revenue"},
        role="leadership",
    )


async def negotiating_objective(api: Api, objective_id: str, journey_id: str, target: float = 0.999) -> dict:
    await prioritized_journey(api, journey_id)
    await api.mutate("draftObjective", objective_input(objective_id, journey_id))
    await api.mutate("recordBaseline", baseline_input(objective_id))
    return await api.mutate(
        "proposeTarget",
        {"objectiveId": objective_id, "proposalId": "p1", "target": target, "rationale": "baseline 99.91%"},
    )
