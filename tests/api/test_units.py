"""Error mapping, limits and metrics in isolation."""

from __future__ import annotations

import logging

import orjson
from graphql import GraphQLError
from prometheus_client import REGISTRY
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.validation_cache import _get_validate_cache

from api.errors import (
    CODES,
    ErrorCodesExtension,
    error_response,
    normalize_error,
    to_graphql_error,
)
from api.limits import graphql_extensions
from api.metrics import Metrics, observe_group_commit_batch, record_command
from domain.errors import Conflict, DomainError, InvalidInput, NotFound

from .conftest import TEST_SETTINGS, make_schema


def test_to_graphql_error_carries_code_and_details():
    err = to_graphql_error(Conflict("stale", expected_version=2, ids={"b"}))
    assert err.message == "stale"
    assert err.extensions == {"expected_version": 2, "ids": ["b"], "code": "CONFLICT"}
    assert err.formatted["extensions"]["code"] == "CONFLICT"
    # a detail named "code" cannot override the code
    assert to_graphql_error(NotFound("x", code="NOPE")).extensions["code"] == "NOT_FOUND"
    assert to_graphql_error(InvalidInput("bad")).extensions == {"code": "BAD_USER_INPUT"}


def test_unknown_domain_code_falls_back():
    class Weird(DomainError):
        code = "TEAPOT"

    assert to_graphql_error(Weird("x")).extensions["code"] in CODES


def test_normalize_masks_plain_exceptions(caplog):
    caplog.set_level(logging.ERROR, logger="slogov.api.errors")
    raw = GraphQLError("boom: password=hunter2", path=["a"], original_error=ValueError("password=hunter2"))
    out = normalize_error(raw, correlation_id="c-1")
    assert out.message == "Internal server error"
    assert out.path == ["a"]
    assert out.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert out.original_error is None
    assert "hunter2" not in orjson.dumps(out.formatted).decode()
    assert "c-1" in caplog.records[0].getMessage()


def test_normalize_is_idempotent():
    for raw in (
        GraphQLError("Syntax Error: x"),
        GraphQLError("x", path=["a"], original_error=NotFound("nf", id="1")),
        GraphQLError("x", path=["a"], original_error=RuntimeError("secret")),
        GraphQLError("deliberate", path=["a"], original_error=GraphQLError("deliberate", extensions={"code": "FORBIDDEN"})),
    ):
        once = normalize_error(raw)
        twice = normalize_error(once)
        assert once.formatted == twice.formatted
        assert once.extensions["code"] in CODES
    assert normalize_error(GraphQLError("d", original_error=GraphQLError("d", extensions={"code": "FORBIDDEN"}))).extensions["code"] == "FORBIDDEN"


def test_error_response_shape():
    r = error_response("UNAUTHENTICATED", "no", 401, {"WWW-Authenticate": "Bearer"})
    assert r.status_code == 401
    assert orjson.loads(r.body) == {"errors": [{"message": "no", "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert r.headers["www-authenticate"] == "Bearer"


def test_graphql_extensions_are_factories_of_the_right_kinds():
    factories = graphql_extensions(TEST_SETTINGS.__class__(introspection=False))
    built = [f() for f in factories]
    kinds = [type(e) for e in built]
    assert isinstance(built[0], ErrorCodesExtension)  # first: sees the final errors
    for cls in (MaxTokensLimiter, ParserCache, QueryDepthLimiter, MaxAliasesLimiter, DisableIntrospection, ValidationCache):
        assert any(issubclass(k, cls) for k in kinds), cls
    # fresh instances per request, sharing prebuilt validation rules
    again = [f() for f in factories]
    assert all(a is not b for a, b in zip(built, again))
    depth = [e for e in built if isinstance(e, QueryDepthLimiter)][0]
    depth2 = [e for e in again if isinstance(e, QueryDepthLimiter)][0]
    assert depth.validation_rules == depth2.validation_rules
    on = [type(f()) for f in graphql_extensions(TEST_SETTINGS.__class__(introspection=True))]
    assert DisableIntrospection not in on


async def test_validation_cache_hits_across_requests():
    schema = make_schema(TEST_SETTINGS)
    cache = _get_validate_cache(TEST_SETTINGS.validation_cache_size)
    query = "{ item(id: 12345) node { name } }"
    await schema.execute(query)
    before = cache.cache_info().hits
    result = await schema.execute(query)
    assert result.errors is None
    assert cache.cache_info().hits == before + 1


async def test_schema_execute_directly_gets_codes():
    schema = make_schema(TEST_SETTINGS)
    result = await schema.execute("{ missing }")
    assert result.errors[0].extensions["code"] == "NOT_FOUND"
    result = await schema.execute("{ nope")
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


def test_metrics_use_their_own_registry():
    a, b = Metrics(), Metrics()
    a.record_command("ProposeTarget", "ok")
    a.record_command("ProposeTarget", "CONFLICT")
    a.observe_group_commit_batch(7)
    text = a.render().decode()
    assert 'slogov_commands_total{command="ProposeTarget",outcome="ok"} 1.0' in text
    assert 'slogov_commands_total{command="ProposeTarget",outcome="CONFLICT"} 1.0' in text
    assert "slogov_group_commit_batch_size_count 1.0" in text
    assert 'slogov_commands_total{command="ProposeTarget"' not in b.render().decode()
    assert REGISTRY.get_sample_value("slogov_commands_total", {"command": "ProposeTarget", "outcome": "ok"}) is None


def test_module_helpers_accept_an_instance():
    m = Metrics()
    record_command("AgreeTarget", "ok", metrics=m)
    observe_group_commit_batch(3, metrics=m)
    assert m.registry.get_sample_value("slogov_commands_total", {"command": "AgreeTarget", "outcome": "ok"}) == 1.0
    assert m.registry.get_sample_value("slogov_group_commit_batch_size_sum") == 3.0
