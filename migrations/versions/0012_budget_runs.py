"""Budget intervals as runs: `rm_budget_runs` (one row per run of back-to-back intervals
of one length, the counts as JSON arrays) replaces `rm_budget_intervals` (one row per
interval: a 28-day baseline at one-minute resolution wrote 40,320 rows in a transaction).

Each existing interval row becomes a run of one, in SQL both databases run; a rebuild
would cut them into the runs their events recorded, which loads the same ledger. The
downgrade expands the runs back into interval rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 10_000


def upgrade() -> None:
    op.create_table(
        "rm_budget_runs",
        sa.Column("objective_id", sa.String(100), primary_key=True),
        sa.Column("start_us", sa.BigInteger, primary_key=True),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("step_us", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("good", sa.Text, nullable=False),
        sa.Column("total", sa.Text, nullable=False),
    )
    op.execute(
        "INSERT INTO rm_budget_runs (objective_id, start_us, end_us, step_us, count, good, total) "
        "SELECT objective_id, start_us, end_us, end_us - start_us, 1, "
        "'[' || CAST(good AS VARCHAR(20)) || ']', '[' || CAST(total AS VARCHAR(20)) || ']' "
        "FROM rm_budget_intervals"
    )
    op.drop_table("rm_budget_intervals")


def downgrade() -> None:
    op.create_table(
        "rm_budget_intervals",
        sa.Column("objective_id", sa.String(100), primary_key=True),
        sa.Column("start_us", sa.BigInteger, primary_key=True),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("good", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
    )
    intervals = sa.table(
        "rm_budget_intervals",
        *(sa.column(c) for c in ("objective_id", "start_us", "end_us", "good", "total")),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT objective_id, start_us, step_us, count, good, total FROM rm_budget_runs"))
    batch: list[dict] = []
    for objective_id, start, step, count, good, total in rows.fetchall():
        for n, (g, t) in enumerate(zip(orjson.loads(good), orjson.loads(total))):
            s = start + n * step
            batch.append({"objective_id": objective_id, "start_us": s, "end_us": s + step, "good": g, "total": t})
        if len(batch) >= _BATCH:
            conn.execute(intervals.insert(), batch)
            batch = []
    if batch:
        conn.execute(intervals.insert(), batch)
    op.drop_table("rm_budget_runs")
