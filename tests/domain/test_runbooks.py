"""Runbooks in the agreement: one http(s) URL per alert tier, all or none, nothing secret."""

from __future__ import annotations

import pytest

from domain import objective, upcasters
from domain.budget.burn import DEFAULT_TIERS
from domain.errors import InvalidInput
from domain.monitoring import WORKBOOK_TIERS, tier_key
from domain.runbooks import check_url, parse_runbooks
from tests.domain.support import World, adopt_versions, agree, drafted_objective, propose

FIELD = "runbooks.page_1h_5m"


@pytest.mark.parametrize("url", [
    "https://wiki.example/runbooks/checkout#fast-burn",
    "http://localhost:8080/rb?page=12&lang=en",
    "https://[::1]:443/rb",
])
def test_a_runbook_url_one_may_publish(url):
    assert check_url(url, FIELD) == url


@pytest.mark.parametrize("url,why", [
    ("ftp://wiki.example/rb", "an http or https URL is required"),
    ("wiki.example/rb", "an http or https URL is required"),
    ("javascript:alert(1)", "an http or https URL is required"),
    ("https://user:pw@wiki.example/rb", "credentials"),
    ("https://deploy-bot@wiki.example/rb", "credentials"),
    ("https://wiki.example/rb?access_token=abc", "'access_token' looks like a credential"),
    ("https://wiki.example/rb?X-Amz-Signature=1", "'X-Amz-Signature' looks like a credential"),
    ("https://wiki.example/r b", "U+0020 at index 22"),
    ("https://wiki.example/rb\r\nX-Injected: 1", "U+000D"),
    ("https://wiki.example/rb\x00", "U+0000"),
    ("https://", "needs a host name"),
    ("https://wiki.example:70000/rb", "needs a host name"),
    ("https://" + "a" * 2000 + ".example", "at most 2000 characters"),
    ("", "an http(s) URL is required"),
    (42, "an http(s) URL is required"),
])
def test_a_runbook_url_is_refused_naming_its_field(url, why):
    with pytest.raises(InvalidInput) as err:
        check_url(url, FIELD)
    assert why in err.value.message and err.value.message.startswith(FIELD)
    assert err.value.details["field"] == FIELD and err.value.code == "BAD_USER_INPUT"


def test_one_per_tier_or_none():
    every = {tier_key(t): f"https://rb.example/{tier_key(t)}" for t in WORKBOOK_TIERS}
    assert list(parse_runbooks(dict(reversed(list(every.items()))), WORKBOOK_TIERS)) == list(every)  # tier order
    assert parse_runbooks(None, WORKBOOK_TIERS) == {} and parse_runbooks({}, WORKBOOK_TIERS) == {}
    with pytest.raises(InvalidInput, match="missing ticket_3d_6h") as err:
        parse_runbooks({k: v for k, v in every.items() if k != "ticket_3d_6h"}, WORKBOOK_TIERS)
    assert err.value.details["field"] == "runbooks.ticket_3d_6h"
    with pytest.raises(InvalidInput, match="'page_2h_5m' is not one of the agreement's alert tiers") as err:
        parse_runbooks({**every, "page_2h_5m": "https://rb.example/x"}, WORKBOOK_TIERS)
    assert err.value.details["field"] == "runbooks.page_2h_5m"


def _agreed(world: World) -> None:
    drafted_objective(world)
    propose(world)
    agree(world)
    adopt_versions(world, "default-policy", 1)


def _formalize(world: World, runbooks):
    return world.run(objective.FormalizeAgreement(
        "checkout-availability", "default-policy", 1, "pat", "sam", ("sre-oncall", "eng-manager"),
        "a fifth of the sprint", runbooks), actor="sam", roles={"sre"})


def test_the_agreement_records_a_runbook_per_tier_of_its_policy():
    world = World()
    _agreed(world)
    # The policy states no tiers: the workbook's three the budget applies (page 1h, page 6h, ticket 3d).
    keys = [tier_key(t) for t in DEFAULT_TIERS]
    with pytest.raises(InvalidInput, match="ticket_1d_2h' is not one of"):
        _formalize(world, {tier_key(t): "https://rb.example/x" for t in WORKBOOK_TIERS})
    with pytest.raises(InvalidInput) as err:
        _formalize(world, {k: "https://rb.example/x" if k != keys[1] else "https://a:b@rb.example/" for k in keys})
    assert err.value.details["field"] == f"runbooks.{keys[1]}"
    assert world.objective("checkout-availability").agreement is None  # nothing recorded
    [event] = _formalize(world, {k: f"https://rb.example/{k}" for k in keys})
    assert event.schema_version == 2 and event.data["runbooks"] == {k: f"https://rb.example/{k}" for k in keys}
    assert world.objective("checkout-availability").agreement.runbooks == {k: f"https://rb.example/{k}" for k in keys}


def test_an_agreement_without_runbooks_records_none():
    world = World()
    _agreed(world)
    [event] = _formalize(world, None)
    assert event.data["runbooks"] == {} and world.objective("checkout-availability").agreement.runbooks == {}
    runbooks = {tier_key(t): "https://rb.example/all" for t in DEFAULT_TIERS}
    _formalize(world, runbooks)  # formalized again, same policy version: now with runbooks
    assert world.objective("checkout-availability").agreement.runbooks == runbooks


def test_an_agreement_recorded_before_runbooks_reads_as_naming_none():
    [step] = [s for t, v, s in upcasters.UPCASTERS if (t, v) == ("AgreementFormalized", 1)]
    old = {"objective_id": "o", "policy_id": "default", "policy_version": 0, "escalation_path": ["sre"]}
    assert step(old) == {**old, "runbooks": {}}
