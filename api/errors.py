"""One error shape everywhere: ``{"message": ..., "extensions": {"code": ...}}``.

Inside GraphQL (``ErrorCodesExtension``, installed by ``api.limits.graphql_extensions``):

* a ``DomainError`` raised anywhere becomes its ``code`` and ``details``;
* syntax errors, validation errors (unknown fields, wrong argument types, depth,
  alias and token limits, disabled introspection) and variable coercion errors
  become ``BAD_USER_INPUT`` with graphql-core's message;
* a ``GraphQLError`` raised on purpose keeps its message, and its
  ``extensions.code`` when that is one of ``CODES`` (else ``BAD_USER_INPUT``);
* any other exception becomes ``"Internal server error"`` /
  ``INTERNAL_SERVER_ERROR``; the exception is logged here (logger
  ``slogov.api.errors``) with its traceback and the request's correlation id,
  and nothing of it reaches the client.

Outside GraphQL (authentication, malformed HTTP) use ``error_response``.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from domain.errors import DomainError

logger = logging.getLogger("slogov.api.errors")

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
POLICY_VIOLATION = "POLICY_VIOLATION"
UNAVAILABLE = "UNAVAILABLE"  # the database stayed busy through the service's retries: send it again
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

CODES = frozenset(
    {
        BAD_USER_INPUT,
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        CONFLICT,
        POLICY_VIOLATION,
        UNAVAILABLE,
        INTERNAL_SERVER_ERROR,
    }
)
INTERNAL_MESSAGE = "Internal server error"

_SUGGESTION_RE = re.compile(r"\s*Did you mean .+\?\s*$", re.DOTALL)


# --- JSON ---------------------------------------------------------------------


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


def dumps(value: Any) -> bytes:
    """orjson with a permissive fallback (sets, Decimal, enums, anything -> str)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def jsonable(value: Any) -> Any:
    """A refusal's details as JSON values (GraphQL's extensions and the gate route's alike)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    return str(value)


# --- GraphQL errors ---------------------------------------------------------


def to_graphql_error(
    exc: DomainError,
    *,
    nodes: Any = None,
    source: Any = None,
    positions: Any = None,
    path: Any = None,
) -> GraphQLError:
    """A ``GraphQLError`` for a refusal: its message, ``extensions = {**details, code}``."""
    code = exc.code if exc.code in CODES else BAD_USER_INPUT
    details = jsonable(getattr(exc, "details", None) or {})
    extensions = {**details, "code": code}
    message = getattr(exc, "message", None) or str(exc) or code
    return GraphQLError(
        message,
        nodes=nodes,
        source=source,
        positions=positions,
        path=path,
        original_error=exc,
        extensions=extensions,
    )


def _code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if code in CODES else None


def _domain_error_in(error: GraphQLError) -> DomainError | None:
    seen = 0
    current: BaseException | None = error.original_error
    while current is not None and seen < 10:
        if isinstance(current, DomainError):
            return current
        current = getattr(current, "original_error", None) if isinstance(current, GraphQLError) else None
        seen += 1
    return None


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def normalize_error(
    error: GraphQLError,
    *,
    user_input: bool = False,
    hide_suggestions: bool = False,
    correlation_id: str | None = None,
) -> GraphQLError:
    """Give ``error`` a code from ``CODES``, masking anything unexpected.

    ``user_input`` marks errors known to come from parsing/validation, whose
    original exception (a custom scalar's ``ValueError``) describes the input.
    Idempotent: an error that already carries a known code is left alone.
    """
    if _code_of(error) is not None and not isinstance(error.original_error, DomainError):
        if error.original_error is None or isinstance(error.original_error, GraphQLError):
            return error

    domain = _domain_error_in(error)
    if domain is not None:
        return to_graphql_error(
            domain,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
        )

    original = error.original_error
    if original is None or isinstance(original, GraphQLError) or user_input:
        # graphql-core's own errors (syntax, validation, coercion) or a GraphQLError
        # raised on purpose: the message is meant for the client.
        code = _code_of(original) if isinstance(original, GraphQLError) else None
        code = code or _code_of(error) or BAD_USER_INPUT
        message = error.message
        if hide_suggestions:
            message = _SUGGESTION_RE.sub("", message) or message
        extensions = {**(error.extensions or {}), "code": code}
        return _with(error, message, extensions)

    logger.error(
        "Unhandled error in GraphQL operation (path=%s, correlation_id=%s)",
        ".".join(str(p) for p in error.path) if error.path else "-",
        correlation_id or "-",
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with(error, INTERNAL_MESSAGE, {"code": INTERNAL_SERVER_ERROR})


def normalize_errors(
    errors: list[GraphQLError],
    *,
    user_input_ids: frozenset[int] | set[int] = frozenset(),
    hide_suggestions: bool = False,
    correlation_id: str | None = None,
) -> list[GraphQLError]:
    return [
        normalize_error(
            error,
            user_input=id(error) in user_input_ids,
            hide_suggestions=hide_suggestions,
            correlation_id=correlation_id,
        )
        for error in errors
    ]


def _context_value(context: Any, key: str) -> Any:
    if context is None:
        return None
    if isinstance(context, Mapping):
        return context.get(key)
    return getattr(context, key, None)


def _record_operation_type(context: Any, operation_type: str) -> None:
    request = _context_value(context, "request")
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get("type") == "http":
        scope.setdefault("state", {})["graphql_operation_type"] = operation_type


class ErrorCodesExtension(SchemaExtension):
    """Give every GraphQL error an ``extensions.code`` and mask unexpected ones.

    Put it first in the extension list: its ``on_operation`` then exits last and
    sees the final errors. Pass it as a factory (``graphql_extensions`` does).
    """

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions
        self._user_input_ids: set[int] = set()
        self._stream_processed = False

    # Errors found while parsing or validating describe the request itself.
    def on_parse(self) -> Iterator[None]:
        yield
        self._remember_pre_execution_errors()

    def on_validate(self) -> Iterator[None]:
        yield
        self._remember_pre_execution_errors()

    def _remember_pre_execution_errors(self) -> None:
        errors = self.execution_context.pre_execution_errors or ()
        self._user_input_ids.update(id(e) for e in errors)

    def _process(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = normalize_errors(
                errors,
                user_input_ids=self._user_input_ids,
                hide_suggestions=self.hide_suggestions,
                correlation_id=_context_value(self.execution_context.context, "correlation_id"),
            )

    def on_operation(self) -> Iterator[None]:
        self._stream_processed = False
        yield
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except Exception:  # noqa: BLE001 - no parsable operation
            operation_type = None
        if operation_type:
            _record_operation_type(context.context, operation_type)
        if self._stream_processed:
            return
        result = context.result
        if result is None:
            return
        initial = getattr(result, "initial_result", None)
        self._process(initial if initial is not None else result)

    def on_stream_result(self, result: StrawberryExecutionResult) -> Iterator[None]:
        self._stream_processed = True
        self._process(result)
        for part in getattr(result, "incremental", None) or ():
            self._process(part)
        yield


def process_errors(errors: list[GraphQLError], execution_context: Any = None) -> None:
    """A quieter ``strawberry.Schema.process_errors``.

    Strawberry's default logs every error, refusals included, at ERROR with a
    traceback. ``ErrorCodesExtension`` already logs unexpected ones; this logs
    the rest at DEBUG. Use it from a Schema subclass::

        class Schema(strawberry.Schema):
            def process_errors(self, errors, execution_context=None):
                api.errors.process_errors(errors, execution_context)
    """
    for error in errors:
        logger.debug("GraphQL error: %s", error.message)


# --- plain HTTP ---------------------------------------------------------------


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def error_response(
    code: str, message: str, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A GraphQL-shaped error for failures before GraphQL runs (auth, bad HTTP)."""
    return ORJSONResponse(error_body(code, message), status_code=status, headers=dict(headers or {}))


def code_for_status(status: int) -> str:
    if status == 401:
        return UNAUTHENTICATED
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status == 409:
        return CONFLICT
    if status >= 500:
        return INTERNAL_SERVER_ERROR
    return BAD_USER_INPUT


__all__ = [
    "CODES",
    "ErrorCodesExtension",
    "INTERNAL_MESSAGE",
    "ORJSONResponse",
    "code_for_status",
    "error_response",
    "normalize_error",
    "normalize_errors",
    "process_errors",
    "to_graphql_error",
]
