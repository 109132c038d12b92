"""Labels on journeys and objectives, and the SLO an objective is one of: two side tables
(one row per key-value pair) the list filters join, and a column for the SLO's name.
Events written before labels carry none, so nothing to backfill: existing rows have no
labels and no SLO name (NULL), as a rebuild would give.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, key in (("rm_journey_labels", "journey_id"), ("rm_objective_labels", "objective_id")):
        op.create_table(
            table,
            sa.Column(key, sa.String(100), primary_key=True),
            sa.Column("key", sa.String(320), primary_key=True),
            sa.Column("value", sa.String(260), primary_key=True),
        )
        op.create_index(f"ix_{table}_key_value", table, ["key", "value"])
    with op.batch_alter_table("rm_objectives") as batch:
        batch.add_column(sa.Column("slo", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rm_objectives") as batch:
        batch.drop_column("slo")
    for table in ("rm_objective_labels", "rm_journey_labels"):
        op.drop_index(f"ix_{table}_key_value", table_name=table)
        op.drop_table(table)
