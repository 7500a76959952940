"""merge the schedules (0002) and admin console (0003) branches into one history

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

revision = "0004"
down_revision = ("0002", "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches touch different tables."""


def downgrade() -> None:
    """Nothing to change."""
