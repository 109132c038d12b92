"""Error-budget read models: one summary row per objective's budget, and the
observation intervals the ledger is reloaded from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_budgets",
        sa.Column("objective_id", sa.String(100), primary_key=True),
        sa.Column("target", sa.Float, nullable=True),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("window_kind", sa.String(20), nullable=False),
        sa.Column("good", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("sli", sa.Float, nullable=True),
        sa.Column("allowed_bad", sa.Float, nullable=True),
        sa.Column("consumed", sa.Float, nullable=True),
        sa.Column("remaining", sa.Float, nullable=True),
        sa.Column("exhausted", sa.Boolean, nullable=False),
        sa.Column("alert_severity", sa.String(40), nullable=True),
        sa.Column("alerts", sa.Text, nullable=False),
        sa.Column("stale", sa.Boolean, nullable=False),
        sa.Column("event_time", sa.String(40), nullable=True),
        sa.Column("last_observation_end", sa.String(40), nullable=True),
        sa.Column("intervals", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_event_id", sa.String(36), nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_budgets_exhausted", "rm_budgets", ["exhausted"])
    op.create_table(
        "rm_budget_intervals",
        sa.Column("objective_id", sa.String(100), primary_key=True),
        sa.Column("start_us", sa.BigInteger, primary_key=True),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("good", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rm_budget_intervals")
    op.drop_index("ix_rm_budgets_exhausted", table_name="rm_budgets")
    op.drop_table("rm_budgets")
