"""The Starlette application: GraphQL, health, readiness, metrics; auth and request ids.

Routes
  GET  /healthz   200 {"status": "ok"} always, no token
  GET  /readyz    no token; 200 when ``SELECT 1`` works on the read engine, else 503 + reason
  GET  /metrics   any valid token; Prometheus text
  GET|POST /graphql, websocket /graphql (graphql-transport-ws)
  POST /gate/evaluate   the deploy gate as plain JSON (api/gate_http.py)

Every HTTP request except /healthz and /readyz needs ``Authorization: Bearer <token>``
(the GraphiQL page itself, a browser GET of /graphql without a query, and its assets
under /graphiql/ are served without one when ``settings.graphiql``; its requests then
need a token). A missing or invalid token gets 401, ``WWW-Authenticate: Bearer`` and
the GraphQL error shape with code UNAUTHENTICATED. Websockets authenticate at
``connection_init`` (``{"Authorization": "Bearer ..."}`` or ``{"token": "..."}``) or with
the header; otherwise the socket is closed before any operation runs, with the codes
graphql-transport-ws clients act on: 4401 "Unauthorized" (no token, or an unknown or revoked one: authenticate
again), 4500 when the token could not be checked. (4403 "Forbidden" would be a known
caller who may not subscribe: every role may, today.)

Each request gets a correlation id: ``X-Request-Id`` when it is 1-100 safe
characters, else a new id; it is echoed in the response header and put in the
GraphQL context as ``correlation_id``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException as StrawberryHTTPException
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http import process_result as strawberry_process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from api.auth import Principal, TokenVerifier
from api.gate_http import evaluate_endpoint
from api.graphiql import ASSETS_PREFIX, assets_mount, page_response
from api.errors import (
    INTERNAL_SERVER_ERROR,
    UNAUTHENTICATED,
    ORJSONResponse,
    code_for_status,
    dumps,
    error_response,
    normalize_errors,
)
from api.metrics import Metrics, default_metrics, metrics_endpoint
from eventstore.ids import new_id

logger = logging.getLogger("slogov.api.http")

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
ROUTE_LABELS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/gate/evaluate"})
REQUEST_ID_HEADER = "x-request-id"
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
READINESS_TIMEOUT_SECONDS = 2.0

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")
_BEARER_RE = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def request_id_from(value: str | None) -> str:
    """The caller's id when it is safe to log and echo, else a fresh one."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    return new_id()


def bearer_token(value: str | None) -> str | None:
    if not value:
        return None
    match = _BEARER_RE.match(value)
    return match.group(1) if match else None


class GraphQLContext(dict):
    """The GraphQL context: a dict whose keys are also attributes.

    Keys: ``principal`` (``api.auth.Principal``; None only on a websocket before
    ``connection_init``), ``container``, ``request`` (Starlette Request or WebSocket),
    ``response``, ``correlation_id``, and ``connection_params`` on websockets.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    @property
    def principal(self) -> Principal | None:  # for type checkers
        return self.get("principal")


WS_UNAUTHORIZED = (4401, "Unauthorized")
WS_AUTH_UNAVAILABLE = (4500, "Authentication is temporarily unavailable")
_WS_REJECTION = "ws_rejection"


class _WebSocketAdapter(ASGIWebSocketAdapter):
    """strawberry closes every refused ``connection_init`` with 4403 "Forbidden"; the
    refusal (`_reject`) leaves the code it means in the socket's state."""

    async def close(self, code: int, reason: str) -> None:
        rejection = (self.ws.scope.get("state") or {}).get(_WS_REJECTION)
        if code == 4403 and rejection is not None:
            code, reason = rejection
        await super().close(code, reason)


def _reject(context: GraphQLContext, close: tuple[int, str]) -> ConnectionRejectionError:
    context["request"].scope.setdefault("state", {})[_WS_REJECTION] = close
    return ConnectionRejectionError({"message": close[1], "code": UNAUTHENTICATED})


class SlogovGraphQL(GraphQL):
    """strawberry's ASGI view with our context, auth hook, error shape and orjson."""

    websocket_adapter_class = _WebSocketAdapter

    def __init__(self, schema: strawberry.Schema, container: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        kwargs.setdefault("connection_init_wait_timeout", timedelta(seconds=10))
        super().__init__(schema, **kwargs)
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except StrawberryHTTPException as exc:
            # Malformed HTTP (no query, bad JSON, GET mutation...): same error shape.
            response = error_response(code_for_status(exc.status_code), exc.reason, exc.status_code)
        await response(scope, receive, send)

    async def execute_single(  # noqa: PLR0917 - strawberry's signature
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # As strawberry's, except that subscriptions are refused over plain HTTP
        # (strawberry would run the subscription resolver as a query field).
        method = request_adapter.method
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise StrawberryHTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                reason = "Subscriptions are served over websocket only (graphql-transport-ws on /graphql)"
            else:
                reason = exc.as_http_error_reason(method)
            raise StrawberryHTTPException(400, reason) from exc
        except MissingQueryError as exc:
            raise StrawberryHTTPException(400, "No GraphQL query found in the request") from exc

    async def render_graphql_ide(self, request: Request) -> Response:
        return page_response()  # strawberry's page would load its scripts from a CDN

    def encode_json(self, data: object) -> str:
        # str, not bytes: the websocket adapter would send bytes as a binary frame.
        return dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> GraphQLContext:
        state = request.scope.get("state") or {}
        return GraphQLContext(
            request=request,
            response=response,
            container=self.container,
            principal=state.get("principal"),
            correlation_id=state.get("correlation_id") or new_id(),
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Safety net: errors raised outside the extension lifecycle still get a code.
        if result.errors:
            state = request.scope.get("state") or {}
            result.errors = normalize_errors(result.errors, correlation_id=state.get("correlation_id"))
        outcome = "ok"
        if result.errors:
            outcome = (result.errors[0].extensions or {}).get("code", INTERNAL_SERVER_ERROR)
        request.scope.setdefault("state", {})["graphql_outcome"] = outcome
        return strawberry_process_result(result)

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        params = context.get("connection_params") or {}
        token = _token_from_params(params) if isinstance(params, Mapping) else None
        principal: Principal | None
        if token is not None:
            try:
                principal = await self.container.verifier.verify(token)
            except Exception:  # noqa: BLE001
                logger.exception("token verification failed for a websocket connection")
                raise _reject(context, WS_AUTH_UNAVAILABLE) from None
        else:
            principal = context.get("principal")  # from the Authorization header
            if principal is None and (context["request"].scope.get("state") or {}).get("auth_unavailable"):
                raise _reject(context, WS_AUTH_UNAVAILABLE)
        if principal is None:
            raise _reject(context, WS_UNAUTHORIZED)
        context["principal"] = principal
        return UNSET


def _token_from_params(params: Mapping[str, Any]) -> str | None:
    for key in ("Authorization", "authorization"):
        value = params.get(key)
        if isinstance(value, str):
            return bearer_token(value) or ""
    value = params.get("token")
    if isinstance(value, str):
        return bearer_token(value) or value
    headers = params.get("headers")
    if isinstance(headers, Mapping):
        return _token_from_params(headers)
    return None


def _is_graphiql_page(scope: Scope, headers: Headers) -> bool:
    if scope["method"] != "GET":
        return False
    if "query" in QueryParams(scope.get("query_string", b"")):
        return False
    return "text/html" in headers.get("accept", "")


class SlogovMiddleware:
    """Request ids, bearer authentication and request metrics, as plain ASGI."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        metrics: Metrics,
        graphiql: bool,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.metrics = metrics
        self.graphiql = graphiql
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = request_id_from(headers.get(REQUEST_ID_HEADER))
        state = scope.setdefault("state", {})
        state["correlation_id"] = request_id
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            refusal = await self._refuse(scope, headers, state)
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            code = status[0] if status else 500
            outcome = state.get("graphql_outcome") if code < 400 else None
            outcome = outcome or ("ok" if code < 400 else code_for_status(code))
            path = scope.get("path", "")
            self.metrics.observe_request(
                path if path in ROUTE_LABELS else "other",
                state.get("graphql_operation_type", "none"),
                outcome,
                time.perf_counter() - started,
            )

    async def _refuse(self, scope: Scope, headers: Headers, state: dict[str, Any]) -> Response | None:
        path = scope.get("path", "")
        if path in PUBLIC_PATHS:
            return None
        if self.graphiql and (
            (path == "/graphql" and _is_graphiql_page(scope, headers)) or path.startswith(ASSETS_PREFIX)
        ):
            return None
        token = bearer_token(headers.get("authorization"))
        if token is None:
            return error_response(
                UNAUTHENTICATED,
                "Authentication required: send Authorization: Bearer <token>",
                401,
                {"WWW-Authenticate": 'Bearer realm="slogov"'},
            )
        try:
            principal = await self.verifier.verify(token)
        except Exception:  # noqa: BLE001
            logger.exception("token verification failed (correlation_id=%s)", state.get("correlation_id"))
            return error_response(INTERNAL_SERVER_ERROR, "Authentication is temporarily unavailable", 503)
        if principal is None:
            return error_response(
                UNAUTHENTICATED,
                "Invalid, unknown or revoked token",
                401,
                {"WWW-Authenticate": 'Bearer realm="slogov", error="invalid_token"'},
            )
        state["principal"] = principal
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return error_response("BAD_USER_INPUT", f"Request body larger than {self.max_body_bytes} bytes", 413)
        return None

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        state = scope.setdefault("state", {})
        state["correlation_id"] = request_id_from(headers.get(REQUEST_ID_HEADER))
        token = bearer_token(headers.get("authorization"))
        if token is not None:
            try:
                state["principal"] = await self.verifier.verify(token)
            except Exception:  # noqa: BLE001
                logger.exception("token verification failed for a websocket handshake")
                state["auth_unavailable"] = True
        self.metrics.websocket_connections.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.metrics.websocket_connections.dec()


async def healthz(request: Request) -> Response:
    return ORJSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if getattr(request.app.state, "shutting_down", False):
        return ORJSONResponse({"status": "unavailable", "reason": "shutting down"}, status_code=503)
    engine = request.app.state.container.read_engine
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        logger.warning("readiness check failed: %s", type(exc).__name__, exc_info=True)
        return ORJSONResponse(
            {"status": "unavailable", "reason": f"database unavailable ({type(exc).__name__})"},
            status_code=503,
        )
    return ORJSONResponse({"status": "ready"})


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(code_for_status(exc.status_code), str(exc.detail), exc.status_code, exc.headers)


async def _unhandled(request: Request, exc: Exception) -> Response:
    # ServerErrorMiddleware logs the traceback; the client learns nothing of it.
    return error_response(INTERNAL_SERVER_ERROR, "Internal server error", 500)


def create_app(
    schema: strawberry.Schema,
    container: Any,
    *,
    metrics: Metrics | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """Build the ASGI app. ``container`` provides ``settings``, ``read_engine``,
    ``verifier``, ``bus``, ``startup()`` and ``shutdown()`` (run by the lifespan).

    Metrics go to ``metrics``, else ``container.metrics`` if it has one, else
    ``api.metrics.default_metrics`` (the one the command bus helpers update).
    """
    settings = container.settings
    metrics = metrics or getattr(container, "metrics", None) or default_metrics
    view = SlogovGraphQL(schema, container, graphql_ide="graphiql" if settings.graphiql else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.shutting_down = False
        await container.startup()
        start_schedules = getattr(container, "start_schedules", None)
        if start_schedules is not None:  # the server's own rounds (the freshness probe)
            start_schedules()
        try:
            yield
        finally:
            app.state.shutting_down = True
            await container.shutdown()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/graphql", view, methods=["GET", "POST"], max_body_size=max_body_bytes),
            WebSocketRoute("/graphql", view),
            Route("/gate/evaluate", evaluate_endpoint, methods=["POST"], max_body_size=max_body_bytes),
            *([assets_mount()] if settings.graphiql else []),
        ],
        middleware=[
            Middleware(
                SlogovMiddleware,
                verifier=container.verifier,
                metrics=metrics,
                graphiql=settings.graphiql,
                max_body_bytes=max_body_bytes,
            )
        ],
        exception_handlers={StarletteHTTPException: _http_exception, Exception: _unhandled},
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.graphql = view
    app.state.shutting_down = False
    return app


__all__ = [
    "GraphQLContext",
    "SlogovGraphQL",
    "SlogovMiddleware",
    "bearer_token",
    "create_app",
    "request_id_from",
]
