"""PostgreSQL: one round trip to start an append -- take the append lock, then read the
log head and the versions of the streams the batch will touch (eventstore/store.py).

A PL/pgSQL function is VOLATILE, so each statement in it takes a fresh snapshot under
READ COMMITTED: the head and the versions are read after the lock is granted and see
every append committed before it. SQLite needs nothing (its writer lock is BEGIN
IMMEDIATE).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CREATE = """
CREATE FUNCTION slogov_append_begin(lock_key bigint, stream_ids text[])
RETURNS TABLE (stream_id text, version bigint, hash text, recorded_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    -- First row: the head (stream_id NULL, version = the head position).
    RETURN QUERY SELECT NULL::text, h.position, h.hash::text, h.recorded_at FROM log_head h WHERE h.id = 1;
    RETURN QUERY SELECT s.stream_id::text, s.version::bigint, NULL::text, NULL::timestamptz
                 FROM streams s WHERE s.stream_id = ANY(stream_ids);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION slogov_append_begin(bigint, text[])")
