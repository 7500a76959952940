"""schedules: backfill progress and the portal's procedure and agency catalogues

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, hub.store.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "backfill_runs",
        sa.Column("system", sa.String(length=60), nullable=False),
        sa.Column("unit_code", sa.String(length=8), nullable=False),
        _at("range_from"),
        _at("range_to"),
        _at("done_until"),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        _at("started_at"),
        _at("updated_at"),
        _at("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("system", "unit_code", "range_from", "range_to", name=op.f("pk_backfill_runs")),
    )
    op.create_table(
        "catalogue_agencies",
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("parent_code", sa.String(length=120), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("first_seen_at"),
        _at("seen_at"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalogue_agencies")),
    )
    op.create_index("ix_catalogue_agencies_parent", "catalogue_agencies", ["parent_code"], unique=False)
    op.create_table(
        "catalogue_procedures",
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("field_code", sa.String(length=120), nullable=True),
        sa.Column("field_name", sa.String(length=500), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("first_seen_at"),
        _at("seen_at"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalogue_procedures")),
    )
    op.create_index("ix_catalogue_procedures_field", "catalogue_procedures", ["field_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_catalogue_procedures_field", table_name="catalogue_procedures")
    op.drop_table("catalogue_procedures")
    op.drop_index("ix_catalogue_agencies_parent", table_name="catalogue_agencies")
    op.drop_table("catalogue_agencies")
    op.drop_table("backfill_runs")
