"""An SLI's queries changed through an import (in memory, through the real deciders): set on a
draft, proposed on an agreed objective with the agreement left in force, nothing for the
same queries, and refused with its place where the domain would refuse it."""

from __future__ import annotations

import pytest

from domain.objective import DefineSli, WithdrawProposal
from domain.specs.plan import CHANGE, PROPOSE, UNCHANGED, PlanErrors, plan
from tests.specs.support import MemoryLog, read_text
from tests.specs.test_plan import agree

SLO = """apiVersion: openslo/v1
kind: DataSource
metadata: {{name: prom}}
spec: {{type: Prometheus, connectionDetails: {{url: 'http://prometheus:9090'}}}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {{name: search-availability}}
spec:
  service: search
  indicator:
    metadata: {{name: search-ok}}
    spec:
      ratioMetric:
        good: {{metricSource: {{metricSourceRef: prom, spec: {{query: 'sum(rate({good}[1m]))'}}}}}}
        total: {{metricSource: {{metricSourceRef: prom, spec: {{query: 'sum(rate(all_total[1m]))'}}}}}}
  timeWindow: [{{duration: 28d, isRolling: true}}]
  budgetingMethod: Occurrences
  objectives: [{{displayName: main, target: {target}}}]
"""
OID = "search-availability"


def spec(good: str = "ok_total", target: float = 0.99):
    return read_text(SLO.format(good=good, target=target), "search.yaml")


def definition(log: MemoryLog):
    return log.states[f"objective-{OID}"].sli_definition.definition()


def test_a_draft_takes_the_files_queries_before_its_target_is_proposed_again():
    log = MemoryLog()
    log.import_(spec())
    assert definition(log)["good"] == "ok_total"
    log.run(WithdrawProposal(OID, "import-1", "the queries were wrong"))  # a draft again

    changed = log.import_(spec(good='ok_total{code!~"5.."}'))
    steps = [(s.action, s.detail) for s in changed.steps if s.subject == f"objective {OID}"]
    assert steps[0] == (CHANGE, 'SLI defined as ratio: good ok_total{code!~"5.."} / total all_total from prom')
    assert steps[1][0] == PROPOSE  # after the definition: the parties weigh the target on the new queries
    assert [type(c).__name__ for c, _ in changed.commands] == ["DefineSli", "ProposeTarget"]
    state = log.states[f"objective-{OID}"]
    assert definition(log)["good"] == 'ok_total{code!~"5.."}' and state.open_proposal.proposal_id == "import-2"
    assert log.import_(spec(good='ok_total{code!~"5.."}')).empty  # the same file again: nothing


def test_an_agreed_objectives_sli_change_is_a_proposal_and_the_agreement_stays_in_force():
    log = MemoryLog()
    log.import_(spec())
    agree(log, OID)
    before = log.position

    changed = log.import_(spec(good="good_total"))
    (step,) = [s for s in changed.steps if s.commands]
    assert (step.action, step.subject) == (PROPOSE, f"objective {OID}")
    assert step.detail == ("SLI change to ratio: good good_total / total all_total from prom proposed as import-2; "
                           "the agreed definition stays in force until it is agreed")
    (command,) = step.commands
    assert isinstance(command, DefineSli) and command.proposal_id == "import-2" and command.rationale.startswith("Imported from test (SLO search-availability")
    assert log.position == before + 1
    state = log.states[f"objective-{OID}"]
    assert state.agreed_target == 0.99 and state.agreed_proposal_id == "import-1"
    assert definition(log)["good"] == "ok_total"  # in force until the parties agree the change
    assert state.open_proposal.sli_definition.good == "good_total" and state.open_proposal.target == 0.99

    again = log.import_(spec(good="good_total"))  # idempotent: the change is already proposed
    assert again.empty and log.position == before + 1
    assert [s.detail for s in again.steps if s.subject == f"objective {OID}"] == [
        "SLI change to ratio: good good_total / total all_total from prom already proposed (import-2)",
        "target 0.99 agreed; proposal import-2 for an SLI change stays open"]

    agree(log, OID)
    assert definition(log)["good"] == "good_total" and log.states[f"objective-{OID}"].agreed_proposal_id == "import-2"
    assert log.import_(spec(good="good_total")).empty


@pytest.mark.parametrize("agreed, target, says", [
    (False, 0.99, "proposal import-1 is open and the parties are weighing the definition they see; withdraw or "
                  "defer it, then import again"),
    (True, 0.995, "the file changes both the agreed target and the SLI (to ratio: good good_total / total all_total "
                  "from prom); each is its own proposal"),
])
def test_an_sli_change_the_domain_would_refuse_is_refused_with_its_place(agreed, target, says):
    log = MemoryLog()
    log.import_(spec())
    if agreed:
        agree(log, OID)
    changed = spec(good="good_total", target=target)
    with pytest.raises(PlanErrors) as refused:
        plan(changed, log.current(changed), actor="importer")
    (error,) = refused.value.errors
    assert str(error.where) == "search.yaml: document 2, spec.objectives[0] (line 19)"
    assert says in error.message


def test_a_target_proposal_still_open_holds_back_an_sli_change():
    log = MemoryLog()
    log.import_(spec())
    agree(log, OID)
    log.import_(spec(target=0.995))  # a target change, open
    changed = spec(good="good_total", target=0.995)
    with pytest.raises(PlanErrors, match="proposal import-2 is open; an SLI change is its own proposal: settle "
                                         "import-2 first"):
        plan(changed, log.current(changed), actor="importer")
    assert [s.action for s in plan(spec(target=0.995), log.current(changed), actor="x").steps][-1] == UNCHANGED


async def test_through_the_log_a_dry_run_lists_the_sli_change_and_apply_proposes_it(container):
    from domain.objective import EndorseProposal
    from service import specs as specs_service
    from service.envelope import Envelope

    admin = frozenset({"admin"})
    await specs_service.import_specs(container, spec(), actor="ada", roles=admin, apply=True)
    for party in ("product", "sre", "engineering", "leadership"):
        await container.bus.execute(Envelope(EndorseProposal(OID, "import-1", party), party, frozenset({party})))
    head = await container.store.head()

    dry = await specs_service.import_specs(container, spec(good="good_total"), actor="ada", roles=admin)
    assert [(s.action, s.subject) for s in dry.plan.steps if s.commands] == [(PROPOSE, f"objective {OID}")]
    assert [e.type for r in dry.results for e in r.events] == ["SliChangeProposed"]
    assert await container.store.head() == head

    done = await specs_service.import_specs(container, spec(good="good_total"), actor="ada", roles=admin, apply=True)
    (event,) = [e for r in done.results for e in r.events]
    assert event.position == head[0] + 1
    again = await specs_service.import_specs(container, spec(good="good_total"), actor="ada", roles=admin, apply=True)
    assert again.plan.empty and (await container.store.head())[0] == head[0] + 1


def test_a_files_data_sources_do_not_take_the_place_of_its_name_in_the_rationales():
    the_plan = plan(spec(), MemoryLog().current(spec()), actor="ada", source="search.yaml")
    (proposal,) = [c for c, _ in the_plan.commands if type(c).__name__ == "ProposeTarget"]
    assert proposal.rationale == "Imported from search.yaml (SLO search-availability, objective main)."
