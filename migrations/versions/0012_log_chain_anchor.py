"""the log chain's anchor: attempts.row_mac (a row's own MAC) and log_days.seal_mac (the signed head), both keyed
by a key kept outside the database (hub/logchain.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN reaches every month partition of attempts on PostgreSQL, and is a plain ALTER on SQLite
    op.add_column("attempts", sa.Column("row_mac", sa.String(64), nullable=True))
    op.add_column("log_days", sa.Column("seal_mac", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_days", schema=None) as batch_op:
        batch_op.drop_column("seal_mac")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("row_mac")
