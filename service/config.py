"""Settings, read once from the environment at the composition root."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./slogov.db"
DEFAULT_CHECKPOINT_KEY = "./slogov-checkpoint.key"


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # GraphQL hardening: what a single request may cost before it is refused.
    introspection: bool = True
    graphiql: bool = True
    max_query_depth: int = 12
    max_query_tokens: int = 4000
    max_aliases: int = 30
    # The estimated work of one operation (api/cost.py): fields x list sizes, expensive fields weighted.
    max_query_cost: int = 25_000
    parser_cache_size: int = 256
    validation_cache_size: int = 256
    max_page_size: int = 100
    # Group commit: how many queued commands one transaction may take.
    max_batch: int = 256
    # Group commit: the longest a batch waits for the callers of the last round (0: never).
    gather_max_ms: float = 5.0
    # The server's freshness probe: seconds between rounds (0: off; see service/freshness.py).
    freshness_probe_seconds: float = 60.0
    # Signed checkpoints: the Ed25519 key file (outside the database; created 0600 on first
    # use) and how often the server signs the head (seconds; 0: never on its own).
    checkpoint_key: str = DEFAULT_CHECKPOINT_KEY
    checkpoint_interval: float = 900.0
    # Collection from data sources (service/collection/collector.py): whether the server
    # collects (`serve --collect`), seconds between rounds, how long after a minute ends
    # its counts are taken as complete (scrapes and ingestion lag behind), and how far
    # back a collector that was down catches up before it records a gap.
    collect: bool = False
    collect_interval_seconds: float = 60.0
    collect_delay_seconds: int = 60
    collect_horizon_minutes: int = 360

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        values: dict[str, object] = {
            "database_url": os.environ.get("SLOGOV_DATABASE_URL", DEFAULT_DATABASE_URL),
            "introspection": _flag("SLOGOV_INTROSPECTION", True),
            "graphiql": _flag("SLOGOV_GRAPHIQL", True),
        }
        if os.environ.get("SLOGOV_MAX_QUERY_COST"):
            values["max_query_cost"] = int(os.environ["SLOGOV_MAX_QUERY_COST"])
        if os.environ.get("SLOGOV_CHECKPOINT_KEY"):
            values["checkpoint_key"] = os.environ["SLOGOV_CHECKPOINT_KEY"]
        if os.environ.get("SLOGOV_CHECKPOINT_INTERVAL"):
            values["checkpoint_interval"] = float(os.environ["SLOGOV_CHECKPOINT_INTERVAL"])
        if os.environ.get("SLOGOV_GATHER_MAX_MS"):
            values["gather_max_ms"] = float(os.environ["SLOGOV_GATHER_MAX_MS"])
        if os.environ.get("SLOGOV_FRESHNESS_PROBE_SECONDS"):
            values["freshness_probe_seconds"] = float(os.environ["SLOGOV_FRESHNESS_PROBE_SECONDS"])
        if os.environ.get("SLOGOV_COLLECT"):
            values["collect"] = _flag("SLOGOV_COLLECT", False)
        for name, kind in (("collect_interval_seconds", float), ("collect_delay_seconds", int),
                           ("collect_horizon_minutes", int)):
            raw = os.environ.get("SLOGOV_" + name.upper())
            if raw:
                values[name] = kind(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
