"""The import and export through the bus and the log, on SQLite and PostgreSQL: a dry run
appends nothing, an applied import is one all-or-nothing batch with the chain intact, a
refusal names the spec's place and appends nothing, the export's provenance is the log's."""

from __future__ import annotations

import asyncio

import pytest

from api.specs.openslo_export import render
from domain.errors import Forbidden, PolicyViolation
from domain.objective import EndorseProposal
from service import audit
from service import specs as specs_service
from service.envelope import Envelope
from tests.service.support import as_role, propose
from tests.specs.support import read, read_text

ADMIN = frozenset({"admin"})
OTHER = """apiVersion: openslo/v1
kind: SLO
metadata: {name: ledger-availability}
spec:
  service: ledger
  indicator:
    metadata: {name: ledger-ok}
    spec: {ratioMetric: {good: {metricSource: {type: slogov, spec: {kind: availability}}},
                         total: {metricSource: {type: slogov, spec: {kind: availability}}}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: main, target: 0.99}]
"""


async def head(container) -> tuple[int, str]:
    return await container.store.head()


async def test_dry_run_apply_reimport_agreement_and_export_with_provenance(container):
    specs = read("sloth/myservice.yaml")
    # a dry run rolls back its own transaction only: a command batched beside it lands
    dry, beside = await asyncio.gather(specs_service.import_specs(container, specs, actor="ada", roles=ADMIN),
                                       container.bus.execute(as_role(propose("other"))))
    assert [e.type for e in beside.events] == ["JourneyProposed"]
    before = await head(container)
    assert not dry.applied and before[0] == beside.events[0].position
    would = [e.type for r in dry.results for e in r.events]
    assert would[:4] == ["JourneyProposed", "JourneyPrioritized", "DependencyMapped", "ObjectiveDrafted"]

    done = await specs_service.import_specs(container, specs, actor="ada", roles=ADMIN, apply=True)
    assert [e.type for r in done.results for e in r.events] == would
    position, chain = await head(container)
    assert position == before[0] + len(would)
    assert (await audit.integrity(container)).ok
    again = await specs_service.import_specs(container, specs, actor="ada", roles=ADMIN, apply=True)
    assert again.plan.empty and again.results == () and await head(container) == (position, chain)

    for party in ("product", "sre", "engineering", "leadership"):
        await container.bus.execute(Envelope(EndorseProposal("myservice-requests-availability", "import-1", party),
                                             f"{party}-person", frozenset({party})))
    exported, provenance = await specs_service.export_specs(container)
    position, chain = await head(container)
    assert (provenance.position, provenance.chain_hash) == (position, chain)
    assert [s.meta.name for s in exported.slos] == ["myservice-requests-availability"]
    text = render(exported, provenance)
    assert f"slogov/chain-hash: {chain}" in text and "slogov/agreement-id: requests-availability=import-1" in text
    # as of the import's last position: nothing was agreed yet
    earlier, _ = await specs_service.export_specs(container, done.results[-1].events[-1].position)
    assert earlier.slos == ()


async def test_a_refusal_names_the_place_and_appends_nothing_of_the_batch(container):
    # ledger's journey exists but is not prioritized: drafting on it is refused, after the
    # batch has already appended the new journey `myservice` and its objectives
    await container.bus.execute(as_role(propose("ledger")))
    before = await head(container)
    specs = read_text(OTHER, "ledger.yaml")
    both = type(specs)(**{f: getattr(specs, f) + getattr(read("sloth/myservice.yaml"), f)
                          for f in ("services", "slis", "slos", "alert_conditions", "alert_policies")})
    with pytest.raises(PolicyViolation, match=r"^ledger.yaml: document 1, spec.objectives\[0\] \(line 12\): "
                                              r"objective ledger-availability: journey ledger has not been prioritized"):
        await specs_service.import_specs(container, both, actor="ada", roles=ADMIN, apply=True)
    assert await head(container) == before
    with pytest.raises(Forbidden, match="myservice.yaml: document 1"):
        await specs_service.import_specs(container, read("sloth/myservice.yaml"), actor="al",
                                         roles=frozenset({"auditor"}))
    assert await head(container) == before


async def test_a_target_above_its_dependencies_ceiling_is_a_finding_beside_the_plan(container):
    from tests.budgets.support import journey, objective

    await journey(container, "ledger", critical=("payments",))
    await objective(container, "payments-availability", "ledger", target=0.99, service="payments")
    result = await specs_service.import_specs(container, read_text(OTHER.replace("0.99}", "0.995}"), "ledger.yaml"),
                                              actor="ada", roles=ADMIN)
    (finding,) = result.findings
    assert finding.code == "CEILING" and "target 0.995 is above 0.99" in finding.message
    assert str(finding.where).startswith("ledger.yaml: document 1")
    assert [s.action for s in result.plan.steps] == ["UNCHANGED", "CREATE"]


async def test_a_prometheus_data_source_is_defined_then_changed_and_its_slis_source_is_known(container):
    from tests.specs.support import FIXTURES

    text = (FIXTURES / "openslo/checkout.yaml").read_text()
    first = await specs_service.import_specs(container, read_text(text, "checkout.yaml"), actor="ada", roles=ADMIN,
                                             apply=True)
    assert (first.plan.steps[0].action, first.plan.steps[0].subject) == ("CREATE", "data source prometheus-main")
    assert not [f for f in first.findings if f.code == "UNKNOWN_SOURCE"]
    state = await specs_service.AsOfReads(container, (await head(container))[0]).source("prometheus-main")
    assert (state.kind, state.url) == ("prometheus", "http://prometheus.monitoring:9090")
    objective = await audit.state_as_of(container, "objective-checkout-availability__sla", (await head(container))[0])
    assert objective.sli_definition.definition() == {  # the rate() around the counter is slogov's own work
        "kind": "ratio", "source": "prometheus-main", "series": "sum",
        "good": 'http_requests_total{job="checkout",code!~"5.."}', "total": 'http_requests_total{job="checkout"}'}
    moved = text.replace("prometheus.monitoring:9090", "prometheus.monitoring:9091")
    second = await specs_service.import_specs(container, read_text(moved, "checkout.yaml"), actor="ada",
                                              roles=ADMIN, apply=True)
    assert [(s.action, s.subject) for s in second.plan.steps if s.commands] == [("CHANGE", "data source prometheus-main")]
    again = await specs_service.import_specs(container, read_text(moved, "checkout.yaml"), actor="ada", roles=ADMIN)
    assert again.plan.empty


async def test_an_export_as_of_a_position_writes_each_data_source_as_it_was_then(container):
    from tests.specs.support import FIXTURES

    text = (FIXTURES / "openslo/checkout.yaml").read_text()
    await specs_service.import_specs(container, read_text(text, "checkout.yaml"), actor="ada", roles=ADMIN, apply=True)
    for party in ("product", "sre", "engineering", "leadership"):
        await container.bus.execute(Envelope(EndorseProposal("checkout-availability__sla", "import-1", party),
                                             f"{party}-person", frozenset({party})))
    agreed, _ = await head(container)
    moved = text.replace("prometheus.monitoring:9090", "prometheus.monitoring:9091")
    await specs_service.import_specs(container, read_text(moved, "checkout.yaml"), actor="ada", roles=ADMIN, apply=True)
    assert (await head(container))[0] > agreed

    then, provenance = await specs_service.export_specs(container, agreed)
    assert [(s.meta.name, s.url) for s in then.data_sources] == [("prometheus-main", "http://prometheus.monitoring:9090")]
    assert provenance.position == agreed
    now, _ = await specs_service.export_specs(container)
    assert [(s.meta.name, s.url) for s in now.data_sources] == [("prometheus-main", "http://prometheus.monitoring:9091")]
    # the same read the GraphQL as-of fields use, through the snapshots' fold
    assert (await audit.state_as_of(container, "source-prometheus-main", agreed)).url == "http://prometheus.monitoring:9090"
