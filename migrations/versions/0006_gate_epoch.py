"""The deploy gate's cache key: one row holding the position of the last event that can
change a gate decision, maintained inline (projections/gate_epoch.py). An existing log's
value is computed here, in SQL, from the same stream categories.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CATEGORIES = ("journey", "objective", "budget", "policy", "actions", "exception")


def upgrade() -> None:
    op.create_table(
        "rm_gate_epoch",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    prefixes = " OR ".join(f"stream_id LIKE '{c}-%'" for c in _CATEGORIES)
    op.execute(f"INSERT INTO rm_gate_epoch (id, position) SELECT 1, MAX(position) FROM events "
               f"WHERE ({prefixes}) HAVING MAX(position) IS NOT NULL")


def downgrade() -> None:
    op.drop_table("rm_gate_epoch")
