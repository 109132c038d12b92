"""What one GraphQL request may cost, as strawberry extensions.

``graphql_extensions(settings)`` returns *factories* (strawberry builds fresh
extension instances per request, see strawberry issue #4369). The validation
rules of the depth and alias limiters are built once and shared by every
request's instance, so ``ValidationCache`` (keyed on the rule classes) hits.

Every refusal is a parse or validation error, which ``ErrorCodesExtension``
reports as ``BAD_USER_INPUT``:

* ``MaxTokensLimiter``  -> syntax error "Document contains more than N tokens. Parsing aborted."
* ``QueryDepthLimiter`` -> "'<operation>' exceeds maximum operation depth of N"
* ``MaxAliasesLimiter`` -> "<n> aliases found. Allowed: N"
* ``QueryCostLimiter`` -> "This query would cost C and the limit is N (SLOGOV_MAX_QUERY_COST): ..."
  with ``extensions.cost`` and ``extensions.maxCost`` (api/cost.py)
* ``DisableIntrospection`` -> "GraphQL introspection has been disabled, but the requested
  query contained the field '__schema'." (``__typename`` stays allowed)
* ``TextInputExtension`` -> "input.name contains a control character (U+0000 at index 3);
  only tab and newline are allowed" (``api.text_input``)
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from api.cost import QueryCostLimiter
from api.errors import ErrorCodesExtension
from api.text_input import TextInputExtension
from service.config import Settings


class SafeParserCache(ParserCache):
    """``ParserCache`` that leaves parse failures to strawberry.

    The stock extension parses inside its ``on_parse`` hook, so a syntax error
    (or the token limit) escapes the extension lifecycle and reaches the client
    without an error code. On failure this one leaves the document unset and
    strawberry parses again inside its own error handling. Only successful
    parses are cached (``lru_cache`` never caches exceptions).
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except Exception:  # noqa: BLE001 - reported by strawberry's own parse
            context.graphql_document = None
        yield


def _per_request(instance: SchemaExtension) -> Callable[[], SchemaExtension]:
    # A shallow copy: a new object per request (strawberry sets
    # ``execution_context`` on it) sharing the prebuilt validation rule classes.
    return lambda: copy.copy(instance)


def graphql_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Extensions for ``strawberry.Schema(..., extensions=graphql_extensions(settings))``."""
    hide_suggestions = not settings.introspection
    factories: list[Callable[[], SchemaExtension]] = [
        # First: its on_operation exits last and sees the final errors.
        lambda: ErrorCodesExtension(hide_suggestions=hide_suggestions),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: SafeParserCache(maxsize=settings.parser_cache_size),
        _per_request(QueryDepthLimiter(max_depth=settings.max_query_depth)),
        _per_request(MaxAliasesLimiter(max_alias_count=settings.max_aliases)),
    ]
    if not settings.introspection:
        factories.append(_per_request(DisableIntrospection()))
    # Last: validation rules added by the extensions above are in place by the
    # time it validates (they are added in on_operation, it validates in on_validate).
    factories.append(lambda: ValidationCache(maxsize=settings.validation_cache_size))
    # After it: the cost of a valid document, known before anything runs (api/cost.py).
    costs: OrderedDict = OrderedDict()
    factories.append(lambda: QueryCostLimiter(settings.max_query_cost, settings.max_page_size, costs))
    # After the cache: it judges strings once the document is known to be valid.
    factories.append(TextInputExtension)
    return factories


def describe(settings: Settings) -> dict[str, Any]:
    """The limits in force, for logs and docs."""
    return {
        "max_query_depth": settings.max_query_depth,
        "max_query_tokens": settings.max_query_tokens,
        "max_aliases": settings.max_aliases,
        "max_query_cost": settings.max_query_cost,
        "parser_cache_size": settings.parser_cache_size,
        "validation_cache_size": settings.validation_cache_size,
        "introspection": settings.introspection,
    }


__all__ = ["SafeParserCache", "describe", "graphql_extensions"]
