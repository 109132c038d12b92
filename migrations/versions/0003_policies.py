"""Policies and the deploy gate: adopted policies, policy actions per objective (with
the services each active freeze covers), freeze exceptions and deploy decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_policies",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_table(
        "rm_policy_actions",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("active_freezes", sa.Integer, nullable=False),
        sa.Column("open_escalations", sa.Integer, nullable=False),
        sa.Column("open_postmortems", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_table(
        "rm_freeze_scope",
        sa.Column("objective_id", sa.String(100), primary_key=True),
        sa.Column("freeze_id", sa.String(100), primary_key=True),
        sa.Column("service", sa.String(200), primary_key=True),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_freeze_scope_service", "rm_freeze_scope", ["service"])
    op.create_table(
        "rm_freeze_exceptions",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("change_version", sa.String(200), nullable=True),
        sa.Column("expires_at_us", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_rm_freeze_exceptions_service_expiry", "rm_freeze_exceptions", ["service", "expires_at_us"]
    )
    op.create_table(
        "rm_deploy_decisions",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("evaluated_at_position", sa.BigInteger, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_deploy_decisions_service", "rm_deploy_decisions", ["service"])


def downgrade() -> None:
    op.drop_index("ix_rm_deploy_decisions_service", table_name="rm_deploy_decisions")
    op.drop_table("rm_deploy_decisions")
    op.drop_index("ix_rm_freeze_exceptions_service_expiry", table_name="rm_freeze_exceptions")
    op.drop_table("rm_freeze_exceptions")
    op.drop_index("ix_rm_freeze_scope_service", table_name="rm_freeze_scope")
    op.drop_table("rm_freeze_scope")
    op.drop_table("rm_policy_actions")
    op.drop_table("rm_policies")
