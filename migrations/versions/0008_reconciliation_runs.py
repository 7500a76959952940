"""reconciliation_runs: each comparison of a unit's one-stop-shop with the national portal and what it found

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = hub.store.types.BigId


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, hub.store.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("unit_code", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        _at("range_from"),
        _at("range_to"),
        sa.Column("sample", sa.Float(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("differences", JSON, nullable=False),
        sa.Column(
            "replay_job_id",
            BIGID,
            sa.ForeignKey("replay_jobs.id", name="fk_reconciliation_runs_replay_job_id_replay_jobs"),
            nullable=True,
        ),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        _at("started_at"),
        _at("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_runs"),
    )
    op.create_index("ix_reconciliation_runs_unit", "reconciliation_runs", ["unit_code", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_reconciliation_runs_unit", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
