"""Demo data drawn from the seeds: three journeys at different phases.

- checkout (tier 1): prioritized, scoped, mapped; its availability SLO agreed by
  all four parties and formalized (ACTIVE); its latency SLO in negotiation with
  an objection from engineering (too strict).
  Its four critical services each have a component objective agreed by SRE and
  engineering; their targets multiply to 99.88%, below checkout's 99.9%, so the
  journey's composite flags that target as infeasible (the seed's composite SLO);
  they stay agreed without a policy (informational).
- search (tier 2): availability agreed by product and SRE and formalized with its own
  escalation path; latency drafted with a baseline.
- rag-answer, "question gets a grounded answer" (tier 1): an open
  instrumentation gap on answer faithfulness, so no target can be proposed
  for it yet; its time-to-first-token SLO was deferred.
- error budgets: two days of 5-minute SLI data for checkout availability, mostly
  good with an hour of errors a day ago (a page alert raised and cleared, about
  half the budget spent), and the last hour of search availability.
- the default error-budget policy (the SRE workbook's example) adopted by leadership as
  version 1, the version checkout's and search's availability agreements pin.
- a quarterly review of checkout availability for the previous quarter: maintain.
- every agreed objective with an SLI definition (checkout's and search's availability)
  is formalized with a runbook per alert tier and an escalation path of its own, so
  `monitoringRules` generates rules, and `monitoringAlertmanager` a route per escalation
  path, for each of them.
- a data source, `demo-prometheus` at `DEMO_PROMETHEUS_URL` (a local Prometheus on its
  default port), and the SLI of checkout's, search's and rag-answer's latency and
  availability objectives as queries against it (rag-answer's faithfulness stays
  undefined: its instrumentation gap is the point). They are recorded without asking
  the source (`checked` false), so the demo starts without a Prometheus; the API's
  `defineSli` always asks it.

Every fact goes through the command bus as the person who would record it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from domain import journey as j
from domain import objective as o
from domain import quarters
from domain import sources
from domain.policy import AdoptPolicy
from policies.loader import DEFAULT_POLICY_ID, default_policy
from service.bootstrap import Container
from service.budget_queries import record_observations
from service.envelope import Envelope

PEOPLE = {
    "product": "pat.product",
    "sre": "sam.sre",
    "engineering": "erin.eng",
    "leadership": "lee.lead",
}


async def load_demo(container: Container, now: datetime | None = None) -> bool:
    """Load the demo once; returns False (and does nothing) if the log has events."""
    position, _ = await container.store.head()
    if position:
        return False
    now = now or datetime.now(timezone.utc)
    bus = container.bus

    async def do(role: str, command) -> None:
        await bus.execute(Envelope(command, PEOPLE[role], frozenset({role})))

    # -- phase 1-3: journeys chosen, prioritized, scoped and mapped -------------
    await do("product", j.ProposeJourney(
        "checkout", "Complete a purchase", "A signed-in shopper pays for the cart and sees the order confirmed.",
        ("view cart", "enter shipping", "pay", "see confirmation"), "cart page", "order confirmation page",
        "the order is placed and confirmed within 5 seconds", "checkout-team", 1,
        revenue_impact="gates all online revenue", conversion_impact="cart-to-order conversion", support_volume=420))
    await do("leadership", j.PrioritizeJourney("checkout", 1, 1, "every order passes through it; largest revenue impact"))
    await do("product", j.DocumentJourneyScope(
        "checkout", ("cart", "shipping", "payment", "confirmation"), ("product search", "returns"),
        "cart page", "order confirmation page", "order confirmed, payment captured once",
        ("product", "ux", "engineering", "sre", "support")))
    for service, kind, critical, modes in (
        ("checkout-api", "service", True, ("timeouts under load",)),
        ("payments-gateway", "external_api", True, ("provider outage", "3-D Secure slowness")),
        ("orders-db", "database", True, ("failover",)),
        ("auth-service", "auth", True, ("token refresh storms",)),
        ("recommendations", "service", False, ("stale suggestions",)),
    ):
        await do("sre", j.MapDependency("checkout", service, kind, critical, modes))

    await do("product", j.ProposeJourney(
        "search", "Find a product", "A shopper searches the catalogue and opens a relevant result.",
        ("type query", "see results", "open product"), "search box", "product page",
        "relevant results within 1 second", "discovery-team", 2, conversion_impact="search-to-cart", support_volume=80))
    await do("product", j.PrioritizeJourney("search", 2, 2, "most sessions start with a search"))
    for service, kind, critical in (("search-api", "service", True), ("search-index", "database", True),
                                    ("auth-service", "auth", False)):
        await do("engineering", j.MapDependency("search", service, kind, critical, ()))

    await do("product", j.ProposeJourney(
        "rag-answer", "Question gets a grounded answer",
        "A support user asks the assistant a question and gets an answer grounded in the knowledge base.",
        ("ask question", "retrieve context", "generate answer", "show sources"), "assistant prompt", "answer with sources",
        "a faithful answer with sources, first token within 2 seconds", "assistant-team", 1,
        revenue_impact="deflects paid support contacts", support_volume=1500))
    await do("leadership", j.PrioritizeJourney("rag-answer", 2, 1, "support cost and renewal risk"))
    for service, kind in (("rag-gateway", "service"), ("vector-store", "vector_store"),
                          ("llm-inference", "inference_endpoint"), ("auth-service", "auth")):
        await do("sre", j.MapDependency("rag-answer", service, kind, True, ()))

    # -- phase 3: where the SLIs are measured --------------------------------------
    await do("sre", sources.DefineDataSource(DEMO_SOURCE, "prometheus", DEMO_PROMETHEUS_URL))

    async def define_sli(objective_id: str, definition: dict[str, Any]) -> None:
        await do("sre", o.DefineSli(objective_id, {"source": DEMO_SOURCE, **definition},
                                    rationale="measured at the load balancer"))

    # -- phase 4-5: objectives, baselines, negotiation, agreement --------------
    window = o.Window("rolling", 30)
    occurrences = o.Budgeting("occurrences")
    start, end = now - timedelta(days=31), now - timedelta(days=1)

    await do("sre", o.DraftObjective("checkout-availability", "checkout", "Checkout succeeds",
                                     o.SLI("availability", description="orders placed / checkout attempts"),
                                     window, occurrences))
    await define_sli("checkout-availability", _ratio("checkout-api"))
    await do("sre", o.RecordBaseline("checkout-availability", start, end, 9_991_200, 10_000_000, "30 days of load balancer logs"))
    await do("sre", o.ProposeTarget("checkout-availability", "p1", 0.999, "baseline 99.91%; users abandon after 2 failures"))
    for party in ("sre", "product", "engineering", "leadership"):
        await do(party, o.EndorseProposal("checkout-availability", "p1", party, "agreed in the SLO workshop"))
    # The workbook's example policy, adopted as version 1 (the version the agreement pins).
    await do("leadership", AdoptPolicy(DEFAULT_POLICY_ID, default_policy(), "the SRE workbook's example policy"))
    await do("sre", o.FormalizeAgreement("checkout-availability", "default", 1, "pat.product", "sam.sre",
                                         ("sre-oncall", "checkout-eng-manager", "vp-engineering"),
                                         "20% of checkout team capacity for reliability when budget < 25%",
                                         _runbooks("checkout")))

    await do("sre", o.DraftObjective("checkout-latency", "checkout", "Checkout pages are fast",
                                     o.SLI("latency", threshold_ms=2000), window, occurrences))
    await define_sli("checkout-latency", _latency("checkout-api", "2"))
    await do("sre", o.RecordBaseline("checkout-latency", start, end, 9_870_000, 10_000_000, "p98.7 under 2s"))
    await do("product", o.ProposeTarget("checkout-latency", "p1", 0.995, "users perceive > 2s as broken"))
    await do("sre", o.EndorseProposal("checkout-latency", "p1", "sre"))
    await do("engineering", o.ObjectToProposal("checkout-latency", "p1", "engineering", "too_strict",
                                               "baseline is 98.7%; needs the payment-page rework first"))

    # Component objectives: one per critical service of checkout, negotiated by the
    # people who run the service. Their product is checkout's ceiling.
    for service, target in COMPONENTS.items():
        oid = f"{service}-availability"
        await do("sre", o.DraftObjective(oid, "checkout", f"{service} answers", o.SLI("availability"),
                                         window, occurrences, service=service))
        await do("sre", o.ProposeTarget(oid, "p1", target, f"{service}'s share of checkout's errors",
                                        ("sre", "engineering")))
        for party in ("sre", "engineering"):
            await do(party, o.EndorseProposal(oid, "p1", party))

    await do("sre", o.DraftObjective("search-availability", "search", "Search answers",
                                     o.SLI("availability"), window, occurrences))
    await define_sli("search-availability", _ratio("search-api"))
    await do("sre", o.ProposeTarget("search-availability", "p1", 0.995, "search failures send users away",
                                    ("product", "sre")))
    await do("product", o.EndorseProposal("search-availability", "p1", "product"))
    await do("sre", o.EndorseProposal("search-availability", "p1", "sre"))
    await do("sre", o.FormalizeAgreement("search-availability", "default", 1, "pat.product", "sam.sre",
                                         ("search-oncall", "discovery-eng-manager"),
                                         "one engineer of the discovery team on reliability while budget < 50%",
                                         _runbooks("search")))

    await do("sre", o.DraftObjective("search-latency", "search", "Search is fast",
                                     o.SLI("latency", threshold_ms=800), window, occurrences))
    await define_sli("search-latency", _latency("search-api", "0.8"))
    await do("sre", o.RecordBaseline("search-latency", start, end, 4_950_000, 5_000_000))

    await do("sre", o.DraftObjective("rag-ttft", "rag-answer", "First token is quick",
                                     o.SLI("latency", threshold_ms=2000, description="time to first token"),
                                     window, occurrences))
    await define_sli("rag-ttft", {"kind": "latency", "le": "2",
                                  "histogram": 'llm_time_to_first_token_seconds{job="rag-gateway"}'})
    await do("sre", o.ProposeTarget("rag-ttft", "p1", 0.99, "streaming should start within 2s"))
    await do("engineering", o.ObjectToProposal("rag-ttft", "p1", "engineering", "too_strict",
                                               "the inference endpoint's cold starts alone take 3s"))
    await do("leadership", o.DeferNegotiation("rag-ttft", "p1", "revisit after the inference capacity upgrade",
                                              now + timedelta(days=45)))
    await do("sre", j.RecordInstrumentationGap("rag-answer", "faithfulness-eval",
                                               "answer faithfulness is only scored offline; no production sampling",
                                               "quality"))
    await do("sre", o.DraftObjective("rag-faithfulness", "rag-answer", "Answers are grounded",
                                     o.SLI("quality", metric="answer_faithfulness", threshold=0.8),
                                     o.Window("calendar_month"), o.Budgeting("timeslices", 5, 0.95)))

    # -- phase 6: error budgets, from monitoring ----------------------------------
    await _observations(container, now)

    # -- phase 7: the quarterly review of checkout availability (the previous quarter)
    await do("product", o.RecordReview(
        "checkout-availability", quarters.previous(quarters.quarter_of(now)), "maintain",
        "99.9% still matches what shoppers tolerate; the budget was spent evenly, no freeze",
        tuple(PEOPLE.values())))
    return True


# A local Prometheus on its default port: point it at your services (or change the source
# with changeDataSource) and `defineSli` checks the demo's queries against it.
DEMO_PROMETHEUS_URL = "http://127.0.0.1:9090"
DEMO_SOURCE = "demo-prometheus"


def _runbooks(journey: str) -> dict[str, str]:
    """One runbook per alert tier of the default policy, as every monitored agreement names them."""
    return {tier: f"https://runbooks.example.com/{journey}/{tier}" for tier in ("page_1h_5m", "page_6h_30m", "ticket_3d_6h")}


def _ratio(job: str) -> dict[str, Any]:
    return {"kind": "ratio", "good": f'http_requests_total{{job="{job}",code!~"5.."}}',
            "total": f'http_requests_total{{job="{job}"}}'}


def _latency(job: str, le: str) -> dict[str, Any]:
    return {"kind": "latency", "histogram": f'http_request_duration_seconds{{job="{job}"}}', "le": le}


COMPONENTS = {"checkout-api": 0.9995, "payments-gateway": 0.9995, "orders-db": 0.9999, "auth-service": 0.9999}
STEP = timedelta(minutes=5)
BATCH = 288  # a day of 5-minute intervals per call


def _checkout_interval(k: int) -> tuple[int, int]:
    """(good, total) of checkout's k-th 5-minute interval of the last two days: about 20
    requests a second with a trickle of failures, and 2% failing in the hour a day ago
    (a burn rate of 20: the 1h/5m page fires, then clears once the hour has passed)."""
    total = 6000 + 300 * ((k * 7) % 5)
    if 276 <= k < 288:
        return total - total // 50, total
    return total - (k * 7) % 3, total


async def _observations(container: Container, now: datetime) -> None:
    # Intervals end on a 5-minute boundary, never after the server's clock.
    latest = min(now, container.store.clock()).astimezone(timezone.utc)
    end = latest.replace(second=0, microsecond=0) - timedelta(minutes=latest.minute % 5)
    start = end - timedelta(days=2)
    items: list[dict[str, Any]] = []
    for k in range((end - start) // STEP):
        good, total = _checkout_interval(k)
        begin = start + k * STEP
        items.append({"objective_id": "checkout-availability", "start": begin, "end": begin + STEP,
                      "good": good, "total": total})
    for n, service in enumerate(COMPONENTS):  # each component: a few failures in ten thousand
        for k in range((end - start) // STEP):
            begin = start + k * STEP
            items.append({"objective_id": f"{service}-availability", "start": begin, "end": begin + STEP,
                          "good": 9000 - (k * (n + 3)) % 4, "total": 9000})
    for k in range(12):  # search: the last hour
        begin = end - timedelta(hours=1) + k * STEP
        items.append({"objective_id": "search-availability", "start": begin, "end": begin + STEP,
                      "good": 2996 - (k % 3), "total": 3000})
    for i in range(0, len(items), BATCH):
        await record_observations(container, PEOPLE["sre"], frozenset({"sre"}), items[i:i + BATCH])
