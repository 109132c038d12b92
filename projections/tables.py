"""Read-model tables. Every row here can be dropped and refolded from the log.

Each entity row keeps its full folded state as JSON (`doc`, see projections/documents.py) beside
the columns queries filter and sort on, so an inline update is one read and one
upsert, and a rebuild can compare rows byte for byte.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

journeys = Table(
    "rm_journeys",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
    Index("ix_rm_journeys_tier_status", "tier", "status"),
)

journey_dependencies = Table(
    "rm_journey_dependencies",
    metadata,
    Column("journey_id", String(100), primary_key=True),
    Column("service", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("critical", Boolean, nullable=False),
    Index("ix_rm_journey_dependencies_service", "service"),
)

objectives = Table(
    "rm_objectives",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("journey_id", String(100), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("sli_kind", String(20), nullable=False),
    Column("informational", Boolean, nullable=False),
    Column("agreed_target", Float, nullable=True),
    Column("product_owner", String(200), nullable=True),
    Column("sre_owner", String(200), nullable=True),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
    Column("service", String(200), nullable=True),  # a component objective's service
    Column("slo", String(100), nullable=True),  # the SLO it is one objective of (migration 0010)
    Index("ix_rm_objectives_status", "status"),
    Index("ix_rm_objectives_service", "service"),
)

# Labels (domain.labels), one row per key-value pair, for the list filters (migration 0010).
journey_labels = Table(
    "rm_journey_labels",
    metadata,
    Column("journey_id", String(100), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("value", String(260), primary_key=True),
    Index("ix_rm_journey_labels_key_value", "key", "value"),
)

objective_labels = Table(
    "rm_objective_labels",
    metadata,
    Column("objective_id", String(100), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("value", String(260), primary_key=True),
    Index("ix_rm_objective_labels_key_value", "key", "value"),
)

# --- data sources (migration 0011) -------------------------------------------------

data_sources = Table(
    "rm_data_sources",
    metadata,
    Column("id", String(100), primary_key=True),  # the source's name
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("retired", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
)

budgets = Table(
    "rm_budgets",
    metadata,
    Column("objective_id", String(100), primary_key=True),
    Column("target", Float, nullable=True),
    Column("method", String(20), nullable=False),
    Column("window_kind", String(20), nullable=False),
    Column("good", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("sli", Float, nullable=True),
    Column("allowed_bad", Float, nullable=True),
    Column("consumed", Float, nullable=True),
    Column("remaining", Float, nullable=True),
    Column("exhausted", Boolean, nullable=False),
    Column("alert_severity", String(40), nullable=True),
    Column("alerts", Text, nullable=False),
    Column("stale", Boolean, nullable=False),
    Column("event_time", String(40), nullable=True),
    Column("last_observation_end", String(40), nullable=True),
    Column("intervals", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_event_id", String(36), nullable=False),
    Column("doc", Text, nullable=False),
    Index("ix_rm_budgets_exhausted", "exhausted"),
)

# The observation intervals of each budget as runs of back-to-back intervals of one
# length (times in microseconds since the epoch, UTC; the counts as JSON arrays, one per
# interval), written incrementally, so a ledger reloads without refolding its log.
# Migration 0012 replaced a row per interval (`rm_budget_intervals`); see
# `projections/budget_runs.py`.
budget_runs = Table(
    "rm_budget_runs",
    metadata,
    Column("objective_id", String(100), primary_key=True),
    Column("start_us", BigInteger, primary_key=True),
    Column("end_us", BigInteger, nullable=False),
    Column("step_us", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("good", Text, nullable=False),
    Column("total", Text, nullable=False),
)

# --- policies and the deploy gate (migration 0003) ---------------------------------

policies = Table(
    "rm_policies",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
)

# One row per objective with policy actions: freezes, escalations, postmortems, incidents.
policy_actions = Table(
    "rm_policy_actions",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("active_freezes", Integer, nullable=False),
    Column("open_escalations", Integer, nullable=False),
    Column("open_postmortems", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
)

# The services each active freeze covers, for the gate's lookup by service.
freeze_scope = Table(
    "rm_freeze_scope",
    metadata,
    Column("objective_id", String(100), primary_key=True),
    Column("freeze_id", String(100), primary_key=True),
    Column("service", String(200), primary_key=True),
    Column("doc", Text, nullable=False),
    Index("ix_rm_freeze_scope_service", "service"),
)

freeze_exceptions = Table(
    "rm_freeze_exceptions",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("service", String(200), nullable=False),
    Column("change_version", String(200), nullable=True),
    Column("expires_at_us", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
    Index("ix_rm_freeze_exceptions_service_expiry", "service", "expires_at_us"),
)

deploy_decisions = Table(
    "rm_deploy_decisions",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_position", BigInteger, nullable=False, unique=True),
    Column("service", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("evaluated_at_position", BigInteger, nullable=False),
    Column("at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
    Index("ix_rm_deploy_decisions_service", "service"),
)

# --- the auditor's side (migration 0004) --------------------------------------------

# One row per event: the metadata auditors filter on, indexed (the log itself is
# append-only and hash-chained, so it is never altered to add columns).
event_index = Table(
    "rm_event_index",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("type", String(100), nullable=False),
    Column("actor", String(200), nullable=True),
    Column("role", String(40), nullable=True),
    Column("correlation_id", String(200), nullable=True),
    Column("causation_id", String(200), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_rm_event_index_stream", "stream_id", "position"),
    Index("ix_rm_event_index_type", "type", "position"),
    Index("ix_rm_event_index_actor", "actor", "position"),
    Index("ix_rm_event_index_correlation", "correlation_id", "position"),
    Index("ix_rm_event_index_causation", "causation_id", "position"),
    Index("ix_rm_event_index_recorded_at", "recorded_at"),
)

# Folded state of a journey or objective stream every N events (projections/snapshots.py),
# so an as-of read folds at most N events after the nearest snapshot.
snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
)

# --- the deploy gate's cache key (migration 0005) ------------------------------------

# One row: the position of the last event that can change a gate decision
# (projections/gate_epoch.py).
gate_epoch = Table(
    "rm_gate_epoch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
)

ALL_TABLES = (
    journeys, journey_dependencies, journey_labels, objectives, objective_labels, budgets, budget_runs,
    policies, policy_actions, freeze_scope, freeze_exceptions, deploy_decisions,
    event_index, snapshots, gate_epoch, data_sources,
)
