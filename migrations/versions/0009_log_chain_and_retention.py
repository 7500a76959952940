"""attempts chained per day (digests, chain hash, an index on started_at) and log_days: sealed heads, retention

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.store.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("personal_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("redacted_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_attempts_started", "attempts", ["started_at"])
    op.create_table(
        "log_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("previous_head", sa.String(length=64), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", UtcDateTime(), nullable=False),
        sa.Column("personal_purged_at", UtcDateTime(), nullable=True),
        sa.Column("redacted_purged_at", UtcDateTime(), nullable=True),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.Column("archive_file", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_log_days")),
    )


def downgrade() -> None:
    op.drop_table("log_days")
    op.drop_index("ix_attempts_started", table_name="attempts")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("chain_hash")
        batch.drop_column("redacted_digest")
        batch.drop_column("personal_digest")
