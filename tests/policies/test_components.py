"""Component objectives at the gate (SQLite and PostgreSQL): an objective that measures one
service freezes that service alone when its budget runs out, and judges that service's
deploys wherever it lives; a journey's own objective still judges every critical service."""

from __future__ import annotations

from domain import objective as o
from policies.loader import POLICY_DIR
from service import gate
from tests.budgets.support import agree, do, journey
from tests.policies.support import (
    LEADERSHIP, OID, assert_every_decision_replays, assert_rebuild_equals_live, deploy, observe,
)


async def _active(container, oid: str, journey_id: str, service: str | None) -> None:
    await do(container, "sre", o.DraftObjective(oid, journey_id, f"SLO {oid}", o.SLI("availability"),
                                                o.Window("rolling", 30), o.Budgeting("occurrences"), service))
    await agree(container, oid, "p1", 0.999)
    await do(container, "sre", o.FormalizeAgreement(oid, "default", 1, "pm", "sre-lead", ("sre-oncall",), "two engineers"))


async def test_a_component_objective_freezes_and_judges_its_own_service(container):
    await gate.adopt_policy(container, "vp", LEADERSHIP, (POLICY_DIR / "default.yaml").read_text())
    await journey(container, "checkout", critical=("payments", "orders-db"))
    await journey(container, "platform")  # depends on nothing: its component objective still counts
    await _active(container, OID, "checkout", None)
    await _active(container, "payments-ok", "checkout", "payments")
    await _active(container, "orders-db-ok", "platform", "orders-db")

    assert (await deploy(container, "feature", "r0", service="payments")).objectives == (OID, "payments-ok")
    assert (await deploy(container, "feature", "r1", service="orders-db")).objectives == (OID, "orders-db-ok")

    # payments' component budget burns out: payments alone is frozen
    await observe(container, 0, 60, 1000, 1000, oid="payments-ok")
    await observe(container, 60, 70, 0, 1000, oid="payments-ok")
    started = [e for e in await container.store.read_stream("actions-payments-ok") if e.type == "FreezeStarted"]
    assert [e.data["services"] for e in started] == [["payments"]]

    denied = await deploy(container, "feature", "r2", service="payments")
    assert denied.outcome == "DENY" and denied.freezes == ("payments-ok/freeze-1",)
    allowed = await deploy(container, "feature", "r3", service="orders-db")
    assert allowed.outcome == "ALLOW" and allowed.freezes == ()
    assert allowed.objectives == (OID, "orders-db-ok")  # payments' component is not orders-db's concern

    # the journey's own objective burning out freezes every critical service, as before
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)
    assert (await deploy(container, "feature", "r4", service="orders-db")).outcome == "DENY"

    assert await assert_every_decision_replays(container) == 5
    await assert_rebuild_equals_live(container)
