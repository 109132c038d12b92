"""The demo server: ``create_app_for(settings, demo=True)`` migrates, loads and issues tokens."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx

from api.auth import create_token
from api.main import create_app_for


async def test_demo_app_loads_the_seed_journeys(settings, capsys):
    app = create_app_for(settings, demo=True)
    async with app.router.lifespan_context(app):
        banner = capsys.readouterr().err
        assert "slogov demo data loaded" in banner
        for role in ("product", "sre", "engineering", "leadership", "auditor", "ci", "admin"):
            assert f"demo-{role}" in banner
        assert "curl" in banner and "Authorization: Bearer slg_" in banner
        token = re.search(r"demo-auditor\s+(slg_\S+)", banner).group(1)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={"query": """{
                viewer { actor roles }
                journeys { totalCount edges { node { id tier status openGaps { id }
                    objectives { edges { node { id status informational } } } } } } }"""})
            data = response.json()["data"]
            response = await client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={"query": """{
                dataSources { nodes { name url } }
                latency: objective(id: "checkout-latency") { sliDefinition { kind source checked } }
                faithfulness: objective(id: "rag-faithfulness") { sliDefinition { kind } } }"""})
            slis = response.json()["data"]
    assert data["viewer"] == {"actor": "demo-auditor", "roles": ["AUDITOR"]}
    journeys = {e["node"]["id"]: e["node"] for e in data["journeys"]["edges"]}
    assert list(journeys) == ["checkout", "search", "rag-answer"]
    assert data["journeys"]["totalCount"] == 3
    assert [g["id"] for g in journeys["rag-answer"]["openGaps"]] == ["faithfulness-eval"]
    statuses = {o["node"]["id"]: (o["node"]["status"], o["node"]["informational"])
                for j in journeys.values() for o in j["objectives"]["edges"]}
    assert statuses["checkout-availability"] == ("ACTIVE", False)
    assert statuses["checkout-latency"] == ("NEGOTIATING", True)
    assert statuses["search-availability"] == ("ACTIVE", False)
    assert statuses["checkout-api-availability"] == ("AGREED", True)  # agreed, no policy yet
    assert statuses["search-latency"] == ("DRAFT", True)
    assert len({s for s, _ in statuses.values()}) >= 4
    # A data source and SLI definitions, recorded unchecked: the demo starts without a Prometheus.
    assert slis["dataSources"]["nodes"] == [{"name": "demo-prometheus", "url": "http://127.0.0.1:9090"}]
    assert slis["latency"]["sliDefinition"] == {"kind": "LATENCY", "source": "demo-prometheus", "checked": False}
    assert slis["faithfulness"]["sliDefinition"] is None


async def test_demo_is_loaded_once(settings, capsys):
    app = create_app_for(settings, demo=True)
    async with app.router.lifespan_context(app):
        head = await app.state.container.store.head()
    app = create_app_for(settings, demo=True)
    async with app.router.lifespan_context(app):
        assert await app.state.container.store.head() == head
    assert "demo data not reloaded" in capsys.readouterr().err


async def test_plain_app_has_no_demo(settings):
    app = create_app_for(settings)
    async with app.router.lifespan_context(app):
        container = app.state.container
        _, token = await create_token(container.engines.write, "someone", ["sre"], datetime.now(timezone.utc))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post("/graphql", headers={"Authorization": f"Bearer {token}"},
                                         json={"query": "{ journeys { totalCount } }"})
    assert response.json() == {"data": {"journeys": {"totalCount": 0}}}
