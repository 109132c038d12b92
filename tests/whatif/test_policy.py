"""Policy what-if over the recorded history, through the real container, on SQLite and
PostgreSQL: a burn-out under the bundled default policy (a freeze, a denied feature
deploy), judged again with candidates."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from domain.errors import InvalidInput
from service.policy_whatif import policy_whatif_of, summary, to_dict
from tests.budgets.support import do
from tests.policies.support import OID, head, minute
from tests.whatif.support import APPROVAL_ONLY, DEFAULT_TEXT, burn_out

async def test_a_candidate_that_requires_approval_instead_of_freezing(container):
    clock = await burn_out(container)
    before = await head(container)
    start, end = minute(0), clock.now
    result = await policy_whatif_of(container, APPROVAL_ONLY, start, end)
    out = result.outcome
    assert result.position == before and result.candidate_version == 1  # "default" was never adopted
    assert [j.recorded.pipeline_run_id for j in out.judged] == ["run-0", "run-1", "run-2", "run-3"]
    (changed,) = out.changed
    assert changed.recorded.pipeline_run_id == "run-1"
    assert (changed.recorded.outcome, changed.what_if.outcome) == ("DENY", "REQUIRE_APPROVAL")
    assert changed.what_if.rule_ids == ("approve-when-exhausted",)
    assert changed.what_if.policy_versions == ("default@1",) and changed.what_if.approver_roles == ("leadership",)
    assert any("needs approval by leadership" in r for r in changed.what_if.reasons)
    # The freeze (and the postmortem the large incident required) would not have started.
    assert [a.type for a in out.actual] == ["FreezeStarted", "PostmortemRequired"]
    assert out.what_if == () and out.only_actual == out.actual
    assert out.affected == (OID,) and out.tiers_differ == ()
    s = summary(result)
    assert s["changed"] == 1 and s["freezes"] == {"actual": 1, "what_if": 0}
    assert to_dict(result)["changed"][0]["what_if"]["outcome"] == "REQUIRE_APPROVAL"
    # The decisions outside the period are not judged; asking appended nothing.
    later = await policy_whatif_of(container, APPROVAL_ONLY, end, end + timedelta(days=1))
    assert later.outcome.judged == ()
    assert await head(container) == before


async def test_the_policy_in_force_reproduces_every_decision(container):
    clock = await burn_out(container)
    result = await policy_whatif_of(container, DEFAULT_TEXT, minute(0), clock.now)
    out = result.outcome
    assert len(out.judged) == 4 and out.affected == () and out.changed == ()
    assert all(j.differences == () for j in out.judged)
    # Refusals: a document that is no policy, a period backwards.
    with pytest.raises(InvalidInput) as err:
        await policy_whatif_of(container, "id: x\nrules: [", minute(0), clock.now)
    assert err.value.code == "BAD_USER_INPUT"
    with pytest.raises(InvalidInput):
        await policy_whatif_of(container, DEFAULT_TEXT, clock.now, minute(0))


PAGED = """
id: default
name: approval when exhausted, a freeze while paged
alert_tiers:
  - {{severity: page, long_window: 1h, short_window: 5m, threshold: {threshold}}}
rules:
  - id: approve-when-exhausted
    when: {{budget_remaining_at_most: 0.0}}
    actions: [{{type: require_approval, role: leadership}}]
    exempt: [rollback]
  - id: freeze-when-paged
    when: {{burn_rate_alert: page}}
    actions: [{{type: freeze}}]
    exempt: [rollback]
"""


async def test_the_candidates_alert_tiers_drive_its_alerts_freezes_and_decisions(container):
    """The same rules with two candidate tiers: a page at 14.4 over 1h/5m fires at the
    outage's first minute (1,000 bad of 60,000 over the hour: 16.7), freezes and denies
    run-1; a page at 500 never fires (the hour's rate peaks at 167), so run-1 only needs
    approval. The alerts are the ones the target what-if finds with the same tiers."""
    from service.whatif import target_whatif_of

    clock = await burn_out(container)
    before = await head(container)
    start, end = minute(0), clock.now
    paged = (await policy_whatif_of(container, PAGED.format(threshold=14.4), start, end)).outcome
    assert paged.tiers_differ == (OID,)
    [alerts] = paged.alerts
    raised = [(m.at, m.data["long_window"]) for m in alerts.what_if if m.type == "BurnRateAlertRaised"]
    assert raised == [(minute(61).isoformat(), "1h")]
    assert {m.data["long_window"] for m in alerts.actual} == {"1h", "6h", "3d"}  # the workbook's three, as recorded
    tiers = [{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 14.4}]
    target = await target_whatif_of(container, OID, start, end, tiers=tiers)
    assert alerts.what_if == target.whatif.of("BurnRateAlertRaised", "BurnRateAlertCleared")
    assert alerts.actual == target.actual.of("BurnRateAlertRaised", "BurnRateAlertCleared")
    by_run = {j.recorded.pipeline_run_id: j for j in paged.judged}
    assert by_run["run-1"].what_if.outcome == "DENY" and "freeze-when-paged" in by_run["run-1"].what_if.reasons[0]
    assert [(a.type, a.rule_id, a.at) for a in paged.what_if if a.type == "FreezeStarted"] == [
        ("FreezeStarted", "freeze-when-paged", minute(61).isoformat())]

    quiet = (await policy_whatif_of(container, PAGED.format(threshold=500), start, end)).outcome
    [alerts] = quiet.alerts
    assert alerts.what_if == () and alerts.actual == paged.alerts[0].actual
    by_run = {j.recorded.pipeline_run_id: j for j in quiet.judged}
    assert (by_run["run-1"].recorded.outcome, by_run["run-1"].what_if.outcome) == ("DENY", "REQUIRE_APPROVAL")
    assert not [a for a in quiet.what_if if a.type == "FreezeStarted"]
    assert await head(container) == before


async def test_tiers_change_where_governance_does_not_at_a_recorded_config(container):
    """The objective moves from the bundled default to policy "paging", which states no
    tiers (the workbook's, as the bundled text): no config is recorded for the move. A candidate "paging" paging
    at 1.9 over 1h/5m governs from the move on, so its tiers apply from the next budget
    command -- as the decider would have sent them. The 40 minutes at 0.5% errors before
    the move page nowhere (they were judged under the workbook's tiers); two minutes into
    the errors after it the 5-minute rate is 2.0 over 1.9 (the hour's, with the first
    errors still in it, 3.3): the page, and the candidate's freeze, at minute 72."""
    from domain import objective as o
    from service import gate
    from tests.policies.support import LEADERSHIP, Clock, active_objective, observe

    clock = Clock()
    clock.now = minute(300)
    container.store.clock = clock
    await active_objective(container)  # the bundled default, version 0
    unsaid = re.sub(r"alert_tiers:\n(  - .*\n)+", "", DEFAULT_TEXT)  # says none: the workbook's, as version 0
    assert "alert_tiers" not in unsaid
    await gate.adopt_policy(container, "vp", LEADERSHIP, unsaid.replace("id: default", "id: paging", 1))
    await observe(container, 0, 10, 1000, 1000)
    await observe(container, 10, 50, 995, 1000)
    await observe(container, 50, 60, 1000, 1000)
    moved = await do(container, "sre", o.FormalizeAgreement(OID, "paging", 1, "pm", "sre-lead", ("sre-oncall",),
                                                             "two engineers"))
    await observe(container, 60, 70, 1000, 1000)
    await observe(container, 70, 110, 995, 1000)
    candidate = PAGED.format(threshold=1.9).replace("id: default", "id: paging", 1)
    out = (await policy_whatif_of(container, candidate, minute(0), clock.now)).outcome
    assert out.tiers_differ == (OID,)
    [alerts] = out.alerts
    assert alerts.since_position > moved.events[-1].position
    assert [m.at for m in alerts.what_if if m.type == "BurnRateAlertRaised"] == [minute(72).isoformat()]
    assert [(a.rule_id, a.at) for a in out.what_if if a.type == "FreezeStarted"] == [
        ("freeze-when-paged", minute(72).isoformat())]


LONG_TICKET = """
id: default
name: a ticket over ten days
alert_tiers:
  - {severity: page, long_window: 1h, short_window: 5m, threshold: 14.4}
  - {severity: ticket, long_window: 10d, short_window: 6h, threshold: 1}
rules:
  - id: approve-when-exhausted
    when: {budget_remaining_at_most: 0.0}
    actions: [{type: require_approval, role: leadership}]
"""


async def test_a_candidates_tiers_must_fit_the_windows_of_the_objectives_it_may_govern(container):
    """As formalizing an agreement refuses a pinned version whose tier outgrows the objective's
    window, the what-if refuses such a candidate: BAD_USER_INPUT naming the tier's field and the
    objective, before the run (no progress told) and appending nothing. Only the objectives it
    may govern count: those pinning its id, or with objective_ids those named."""
    from domain import objective as o
    from tests.budgets.support import journey, objective

    clock = await burn_out(container)  # OID: rolling 30 days, pins default
    await journey(container, "search")
    await objective(container, "search-weekly", "search", days=7)
    await do(container, "sre", o.FormalizeAgreement("search-weekly", "default", 0, "pm", "sre-lead", ("sre-oncall",),
                                                    "one engineer"))
    before = await head(container)
    told = []
    for document in (LONG_TICKET, LONG_TICKET.replace("10d", "31d")):
        with pytest.raises(InvalidInput) as refused:
            await policy_whatif_of(container, document, minute(0), clock.now, progress=lambda *a: told.append(a))
        assert refused.value.code == "BAD_USER_INPUT"
        assert refused.value.details["field"] == "alert_tiers[1].long_window"
    assert refused.value.details["objective_id"] == OID  # 31d outgrows both: the first named
    with pytest.raises(InvalidInput, match="search-weekly.*10d is longer than the objective's window \\(7d\\)"):
        await policy_whatif_of(container, LONG_TICKET, minute(0), clock.now, objective_ids=["search-weekly"])
    assert told == [] and await head(container) == before
    # Governing only the 30-day objective, the 10-day ticket fits.
    fits = await policy_whatif_of(container, LONG_TICKET, minute(0), clock.now, objective_ids=[OID])
    assert fits.outcome.affected == (OID,)
