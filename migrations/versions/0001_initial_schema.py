"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("dossier_code", sa.String(length=40), nullable=False),
        sa.Column("dossier_version", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("delivered_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "dossier_code",
            "dossier_version",
            "target",
            name=op.f("uq_deliveries_dossier_code_dossier_version_target"),
        ),
    )
    op.create_table(
        "dossier_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("dossier_code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("source_updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recorded_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_versions")),
        sa.UniqueConstraint("dossier_code", "version", name=op.f("uq_dossier_versions_dossier_code_version")),
    )
    op.create_table(
        "dossiers",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("receiving_unit", sa.String(length=8), nullable=False),
        sa.Column("processing_unit", sa.String(length=8), nullable=True),
        sa.Column("local_procedure_code", sa.String(length=120), nullable=False),
        sa.Column("national_procedure_code", sa.String(length=120), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "source_versions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source_updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("appointment_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_dossiers")),
    )
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index("ix_dossiers_procedure", ["local_procedure_code"], unique=False)
        batch_op.create_index("ix_dossiers_status_appointment", ["status", "appointment_at"], unique=False)
        batch_op.create_index("ix_dossiers_unit_updated", ["receiving_unit", "source_updated_at"], unique=False)

    op.create_table(
        "late_dossiers",
        sa.Column("dossier_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=8), nullable=False),
        sa.Column("procedure_code", sa.String(length=120), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("appointment_on", sa.Date(), nullable=False),
        sa.Column("finished_on", sa.Date(), nullable=True),
        sa.Column("days_late", sa.Integer(), nullable=False),
        sa.Column("detected_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code", name=op.f("pk_late_dossiers")),
    )
    with op.batch_alter_table("late_dossiers", schema=None) as batch_op:
        batch_op.create_index("ix_late_dossiers_unit", ["unit_code", "appointment_on"], unique=False)

    op.create_table(
        "procedure_mappings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("local_code", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("national_code", sa.String(length=120), nullable=False),
        sa.Column("procedure_name", sa.String(length=500), nullable=True),
        sa.Column("field_code", sa.String(length=120), nullable=True),
        sa.Column("field_name", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure_mappings")),
        sa.UniqueConstraint("local_code", "version", name=op.f("uq_procedure_mappings_local_code_version")),
    )
    with op.batch_alter_table("procedure_mappings", schema=None) as batch_op:
        batch_op.create_index("ix_procedure_mappings_active", ["local_code", "active"], unique=False)

    op.create_table(
        "replay_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "filter",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rate_per_second", sa.Double(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replay_jobs")),
    )
    op.create_table(
        "schedule_jobs",
        sa.Column("job_id", sa.String(length=120), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.Text(), nullable=True),
        sa.Column("next_run_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_schedule_jobs")),
    )
    op.create_table(
        "schedule_ticks",
        sa.Column("job_id", sa.String(length=120), nullable=False),
        sa.Column("tick_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=False),
        sa.Column("claimed_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "tick_at", name=op.f("pk_schedule_ticks")),
    )
    op.create_table(
        "target_switches",
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_target_switches")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "watermarks",
        sa.Column("system", sa.String(length=60), nullable=False),
        sa.Column("unit_code", sa.String(length=8), nullable=False),
        sa.Column("value", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("token", sa.String(length=400), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("system", "unit_code", name=op.f("pk_watermarks")),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("queue", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("dossier_code", sa.String(length=40), nullable=True),
        sa.Column("dossier_version", sa.Integer(), nullable=True),
        sa.Column("unit_code", sa.String(length=8), nullable=True),
        sa.Column("procedure_code", sa.String(length=120), nullable=True),
        sa.Column("source", sa.String(length=60), nullable=True),
        sa.Column("target", sa.String(length=60), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_class", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("remote_message", sa.Text(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "payload_redacted",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("replay_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("replay_job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("broker_message_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["replay_job_id"], ["replay_jobs.id"], name=op.f("fk_messages_replay_job_id_replay_jobs")
        ),
        sa.ForeignKeyConstraint(["replay_of"], ["messages.id"], name=op.f("fk_messages_replay_of_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_created", ["created_at"], unique=False)
        batch_op.create_index("ix_messages_dossier", ["dossier_code", "id"], unique=False)
        batch_op.create_index("ix_messages_error_state", ["error_class", "state"], unique=False)
        batch_op.create_index("ix_messages_procedure_created", ["procedure_code", "created_at"], unique=False)
        batch_op.create_index("ix_messages_replay_of", ["replay_of"], unique=False)
        batch_op.create_index("ix_messages_state_updated", ["state", "updated_at"], unique=False)
        batch_op.create_index("ix_messages_target_state_created", ["target", "state", "created_at"], unique=False)
        batch_op.create_index("ix_messages_unit_created", ["unit_code", "created_at"], unique=False)

    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("started_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("error_class", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("remote_message", sa.Text(), nullable=True),
        sa.Column("retry_delay_ms", sa.Integer(), nullable=True),
        sa.Column(
            "request",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "request_redacted",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "response_redacted",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attempts_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index("ix_attempts_message", ["message_id", "number"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_message")

    op.drop_table("attempts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_unit_created")
        batch_op.drop_index("ix_messages_target_state_created")
        batch_op.drop_index("ix_messages_state_updated")
        batch_op.drop_index("ix_messages_replay_of")
        batch_op.drop_index("ix_messages_procedure_created")
        batch_op.drop_index("ix_messages_error_state")
        batch_op.drop_index("ix_messages_dossier")
        batch_op.drop_index("ix_messages_created")

    op.drop_table("messages")
    op.drop_table("watermarks")
    op.drop_table("users")
    op.drop_table("target_switches")
    op.drop_table("schedule_ticks")
    op.drop_table("schedule_jobs")
    op.drop_table("replay_jobs")
    with op.batch_alter_table("procedure_mappings", schema=None) as batch_op:
        batch_op.drop_index("ix_procedure_mappings_active")

    op.drop_table("procedure_mappings")
    with op.batch_alter_table("late_dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_late_dossiers_unit")

    op.drop_table("late_dossiers")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_unit_updated")
        batch_op.drop_index("ix_dossiers_status_appointment")
        batch_op.drop_index("ix_dossiers_procedure")

    op.drop_table("dossiers")
    op.drop_table("dossier_versions")
    op.drop_table("deliveries")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
