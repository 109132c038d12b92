"""The adapter for a data source, by its kind (only `prometheus` so far)."""

from __future__ import annotations

from typing import Any

from domain.data_source import DataSource
from service.sources.prometheus import PrometheusSource


def open_source(source: DataSource, **options: Any) -> PrometheusSource:
    """The source's adapter (an async context manager); headers from the environment.
    Raises `SourceMisconfigured` for an unknown kind or an unset header variable."""
    return PrometheusSource.from_source(source, **options)
