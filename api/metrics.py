"""Prometheus metrics on a dedicated registry (never the process-global one).

``Metrics()`` owns a ``CollectorRegistry`` and every metric, so tests can build
several apps side by side. ``default_metrics`` is the process-wide instance:
``create_app`` uses it unless the container has a ``metrics`` attribute, and the
module-level ``record_command`` / ``observe_group_commit_batch`` update it, so
the command bus can take ``on_batch=observe_group_commit_batch`` directly.

Label values are bounded: ``route`` is one of the app's routes or ``other``,
``operation_type`` is query | mutation | subscription | none, ``outcome`` is
``ok`` or an error code from ``api.errors.CODES`` (GraphQL: the first error's).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        labels = ("route", "operation_type", "outcome")
        self.requests = Counter(
            "slogov_http_requests_total",
            "HTTP requests served, by route, GraphQL operation type and outcome.",
            labels,
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "slogov_http_request_duration_seconds",
            "Time to serve an HTTP request, by route, GraphQL operation type and outcome.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.websocket_connections = Gauge(
            "slogov_websocket_connections",
            "Open GraphQL websocket connections.",
            registry=self.registry,
        )
        self.commands = Counter(
            "slogov_commands_total",
            "Commands handled by the command bus, by command and outcome.",
            ("command", "outcome"),
            registry=self.registry,
        )
        self.group_commit_batch_size = Histogram(
            "slogov_group_commit_batch_size",
            "Commands decided and appended together in one transaction.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )

    def observe_request(
        self, route: str, operation_type: str, outcome: str, seconds: float
    ) -> None:
        self.requests.labels(route, operation_type, outcome).inc()
        self.request_duration.labels(route, operation_type, outcome).observe(seconds)

    def record_command(self, command: str, outcome: str) -> None:
        self.commands.labels(command, outcome).inc()

    def observe_group_commit_batch(self, size: int) -> None:
        self.group_commit_batch_size.observe(size)

    def render(self) -> bytes:
        return generate_latest(self.registry)


default_metrics = Metrics()


def record_command(command: str, outcome: str, metrics: Metrics | None = None) -> None:
    """Count one command: ``outcome`` is ``ok`` or the refusal's error code."""
    (metrics or default_metrics).record_command(command, outcome)


def observe_group_commit_batch(size: int, metrics: Metrics | None = None) -> None:
    """Record how many commands one group-commit transaction took."""
    (metrics or default_metrics).observe_group_commit_batch(size)


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the app's registry in the Prometheus text format."""
    metrics: Metrics = getattr(request.app.state, "metrics", None) or default_metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


__all__ = [
    "Metrics",
    "default_metrics",
    "metrics_endpoint",
    "observe_group_commit_batch",
    "record_command",
]
