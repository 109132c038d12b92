"""Component objectives: an objective may measure one service, and journeys that depend
critically on that service compose their attainment from it. The read model gets the
service as a column so a journey finds its dependencies' objectives with one indexed
query. Objectives drafted before this have no service (NULL): nothing to backfill.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rm_objectives") as batch:
        batch.add_column(sa.Column("service", sa.String(200), nullable=True))
        batch.create_index("ix_rm_objectives_service", ["service"])


def downgrade() -> None:
    with op.batch_alter_table("rm_objectives") as batch:
        batch.drop_index("ix_rm_objectives_service")
        batch.drop_column("service")
