"""PostgreSQL: the append lock's stream-version lookup always goes by the primary key.

`slogov_append_begin` (0007) looks up the batch's stream versions with
`stream_id = ANY(stream_ids)`. PL/pgSQL caches that statement's plan per connection,
and a plan made while `streams` was small (a new database, or any database whose
statistics are stale) is a sequential scan that it keeps as the table grows: every
append then read the whole table under the append lock (measured: 0.39 ms of PostgreSQL
CPU per deploy decision at ~10,000 streams, 0.14 ms with the index). A handful of keys
against a primary key is an index lookup at any size, so the function says so.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION slogov_append_begin(bigint, text[]) SET enable_seqscan = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION slogov_append_begin(bigint, text[]) RESET enable_seqscan")
