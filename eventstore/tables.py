"""The log's tables. Alembic owns the schema (migrations/); these mirror it for queries."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

events = Table(
    "events",
    metadata,
    # Assigned by the store from log_head under the append lock, never by a
    # sequence: a sequence leaves holes after a rollback.
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    Index("ix_events_type", "type"),
)

# One row (id = 1): the last position and hash, read and advanced under the lock.
log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    # The newest recorded_at: the store never stamps an event earlier than this,
    # so time order and position order agree (as-of-time == as-of-position).
    Column("recorded_at", DateTime(timezone=True), nullable=True),
)

# Current version per stream, so an expected-version check is one indexed read.
streams = Table(
    "streams",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("result", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# Signed checkpoints of the log (eventstore/log_checkpoints.py), kept here to publish
# them. The proof does not rest on these rows: an auditor keeps their own copy.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    # The time as signed (ISO 8601 text), so the signed bytes survive any driver.
    Column("at", String(40), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)
