"""The auditor's read models: an index of every event's metadata (stream, type,
actor, role, correlation and causation ids, time), and state snapshots that keep
as-of reads flat. The log itself is not touched (append-only, hash-chained).

An existing log's events are indexed here, in SQL; snapshots start empty (as-of
reads fold from the start of a stream until one exists, with the same answer).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_rm_event_index_stream", ["stream_id", "position"]),
    ("ix_rm_event_index_type", ["type", "position"]),
    ("ix_rm_event_index_actor", ["actor", "position"]),
    ("ix_rm_event_index_correlation", ["correlation_id", "position"]),
    ("ix_rm_event_index_causation", ["causation_id", "position"]),
    ("ix_rm_event_index_recorded_at", ["recorded_at"]),
)


def upgrade() -> None:
    op.create_table(
        "rm_event_index",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("role", sa.String(40), nullable=True),
        sa.Column("correlation_id", sa.String(200), nullable=True),
        sa.Column("causation_id", sa.String(200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    for name, columns in _INDEXES:
        op.create_index(name, "rm_event_index", columns)
    op.create_table(
        "snapshots",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
    )
    # Index what the log already holds (the inline projection keeps it current from here).
    if op.get_bind().dialect.name == "postgresql":
        field = "(metadata::jsonb ->> '{0}')"
    else:
        field = "json_extract(metadata, '$.{0}')"
    op.execute(
        "INSERT INTO rm_event_index (position, event_id, stream_id, type, actor, role, "
        "correlation_id, causation_id, recorded_at) SELECT position, event_id, stream_id, type, "
        + ", ".join(field.format(k) for k in ("actor", "role", "correlation_id", "causation_id"))
        + ", recorded_at FROM events"
    )
    op.execute(
        "INSERT INTO checkpoints (projection, position) SELECT 'event_index', position FROM log_head WHERE id = 1"
    )


def downgrade() -> None:
    op.drop_table("snapshots")
    for name, _ in reversed(_INDEXES):
        op.drop_index(name, table_name="rm_event_index")
    op.drop_table("rm_event_index")
    op.execute("DELETE FROM checkpoints WHERE projection IN ('event_index', 'snapshots')")
