"""The event log, its head, streams, idempotency keys, checkpoints, tokens and
the first read models (journeys, dependencies, objectives).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# One statement each: asyncpg prepares statements and refuses several at once.
PG_APPEND_ONLY = (
    """CREATE FUNCTION slogov_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the event log is append-only: % on events refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$""",
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION slogov_events_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION slogov_events_append_only()",
)

SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on events refused'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE on events refused'); END",
)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    )
    op.create_index("ix_events_type", "events", ["type"])
    log_head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(log_head, [{"id": 1, "position": 0, "hash": GENESIS, "recorded_at": None}])
    op.create_table(
        "streams",
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "rm_journeys",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_journeys_tier_status", "rm_journeys", ["tier", "status"])
    op.create_table(
        "rm_journey_dependencies",
        sa.Column("journey_id", sa.String(100), primary_key=True),
        sa.Column("service", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
    )
    op.create_index("ix_rm_journey_dependencies_service", "rm_journey_dependencies", ["service"])
    op.create_table(
        "rm_objectives",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("journey_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sli_kind", sa.String(20), nullable=False),
        sa.Column("informational", sa.Boolean, nullable=False),
        sa.Column("agreed_target", sa.Float, nullable=True),
        sa.Column("product_owner", sa.String(200), nullable=True),
        sa.Column("sre_owner", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_objectives_journey_id", "rm_objectives", ["journey_id"])
    op.create_index("ix_rm_objectives_status", "rm_objectives", ["status"])

    pg = op.get_bind().dialect.name == "postgresql"
    for statement in PG_APPEND_ONLY if pg else SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    # The log is never dropped by a migration: downgrading past it is refused.
    raise RuntimeError("the event log cannot be downgraded away")
