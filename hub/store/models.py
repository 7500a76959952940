"""The hub's tables.

The integration log (``messages`` and ``attempts``) is the source of truth for everything the hub did: a message is
written here before it is enqueued (transactional outbox) and every step of its life is recorded. It grows to tens
of millions of rows, so every lookup the console makes has an index that starts with the column it filters on, and
pagination is by ``id`` (keyset), which stays stable while new messages arrive.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from foundation.clock import utcnow
from hub.store.types import BigId, Json, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CODE = 40  # dossier codes are 26 characters; room for vendors' longer ones
UNIT = 8
NAME = 120


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: Json, datetime: UtcDateTime}


class MessageState(StrEnum):
    """Where a message is in its life; the integration log's ``state`` column. :data:`TRANSITIONS` says which
    changes are allowed, and every writer enforces it with a conditional UPDATE (``WHERE state IN ...``)."""

    QUEUED = "queued"  # written with the work that caused it, handed to the broker after commit (outbox)
    RUNNING = "running"  # claimed by a worker, whose lease (``lease_until``) it renews while it works
    RETRYING = "retrying"  # failed with a retryable error; will run again after a delay
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"  # nothing to do (an older version, already delivered)
    PARKED = "parked"  # failed permanently or gave up retrying: waits for a human
    HELD = "held"  # its target is paused by an operator; sent again on resume
    REPLAYED = "replayed"  # parked, then replayed: the replay is a new message linked by replay_of
    CANCELLED = "cancelled"  # an operator gave up on it

    @property
    def in_flight(self) -> bool:
        return self in {MessageState.QUEUED, MessageState.RUNNING, MessageState.RETRYING}

    def sources(self) -> tuple[str, ...]:
        """The states a message may be in to become this one."""
        return tuple(sorted(state.value for state, targets in TRANSITIONS.items() if self in targets))


_S = MessageState
# The message life cycle, in one place. Only a claim makes a message ``running``; only the claim's holder ends a
# running message (or gives it back); a parked message changes only by a replay (``replayed``) or an operator.
TRANSITIONS: dict[MessageState, frozenset[MessageState]] = {
    _S.QUEUED: frozenset({_S.RUNNING, _S.HELD, _S.CANCELLED}),
    _S.RETRYING: frozenset({_S.RUNNING, _S.QUEUED, _S.HELD, _S.REPLAYED, _S.CANCELLED}),
    _S.RUNNING: frozenset({_S.QUEUED, _S.RETRYING, _S.SUCCEEDED, _S.SKIPPED, _S.PARKED, _S.HELD}),
    _S.HELD: frozenset({_S.QUEUED, _S.REPLAYED, _S.CANCELLED}),
    _S.PARKED: frozenset({_S.REPLAYED, _S.CANCELLED}),
    _S.SUCCEEDED: frozenset(),
    _S.SKIPPED: frozenset(),
    _S.REPLAYED: frozenset(),
    _S.CANCELLED: frozenset(),
}


class Dossier(Base):
    """The newest canonical version the hub has accepted for a dossier."""

    __tablename__ = "dossiers"

    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    receiving_unit: Mapped[str] = mapped_column(String(UNIT))
    processing_unit: Mapped[str | None] = mapped_column(String(UNIT))
    local_procedure_code: Mapped[str] = mapped_column(String(NAME))
    national_procedure_code: Mapped[str | None] = mapped_column(String(NAME))
    status: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer)  # the hub's revision: +1 on every accepted change
    content_hash: Mapped[str] = mapped_column(String(64))
    source_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # "system:unit" → the source's revision
    source_updated_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    appointment_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_dossiers_unit_updated", "receiving_unit", "source_updated_at"),
        Index("ix_dossiers_status_appointment", "status", "appointment_at"),
        Index("ix_dossiers_procedure", "local_procedure_code"),
    )


class DossierVersion(Base):
    """Every canonical version the hub has seen, so the console can show what changed between them."""

    __tablename__ = "dossier_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(SmallInteger)
    source_updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    message_id: Mapped[int | None] = mapped_column(BigId)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("dossier_code", "version"),)


class Message(Base):
    """One message of the integration log: a poll, a sync of a dossier, a delivery to a target."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(60))
    queue: Mapped[str] = mapped_column(String(60), default="default")
    state: Mapped[str] = mapped_column(String(12), default=MessageState.QUEUED.value)
    dossier_code: Mapped[str | None] = mapped_column(String(CODE))
    dossier_version: Mapped[int | None] = mapped_column(Integer)
    unit_code: Mapped[str | None] = mapped_column(String(UNIT))
    procedure_code: Mapped[str | None] = mapped_column(String(NAME))
    source: Mapped[str | None] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(60))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_class: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    remote_message: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload_redacted: Mapped[dict[str, Any] | None]
    result: Mapped[dict[str, Any] | None]
    replay_of: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id"))
    replay_job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("replay_jobs.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    enqueued_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]  # a running message's claim holds until then unless renewed
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # the worker thread holding the claim

    __table_args__ = (
        Index("ix_messages_dossier", "dossier_code", "id"),
        Index("ix_messages_unit_created", "unit_code", "created_at"),
        Index("ix_messages_procedure_created", "procedure_code", "created_at"),
        Index("ix_messages_target_state_created", "target", "state", "created_at"),
        Index("ix_messages_state_updated", "state", "updated_at"),
        Index("ix_messages_error_state", "error_class", "state"),
        Index("ix_messages_created", "created_at"),
        Index("ix_messages_replay_of", "replay_of"),
    )


class Attempt(Base):
    """One try at a message: when, by whom, what was sent and answered, how it ended."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[float | None]
    worker: Mapped[str | None] = mapped_column(String(120))
    error_class: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    remote_message: Mapped[str | None] = mapped_column(Text)
    retry_delay_ms: Mapped[int | None] = mapped_column(Integer)
    request: Mapped[dict[str, Any] | None]
    response: Mapped[dict[str, Any] | None]
    request_redacted: Mapped[dict[str, Any] | None]
    response_redacted: Mapped[dict[str, Any] | None]
    # Written when the row's day is sealed into the tamper-evident chain (hub/logchain.py), never by the writer:
    personal_digest: Mapped[str | None] = mapped_column(String(64))  # of request and response, kept after purge
    redacted_digest: Mapped[str | None] = mapped_column(String(64))  # of the redacted views, likewise
    chain_hash: Mapped[str | None] = mapped_column(String(64))  # covers the previous row's hash and this row
    row_mac: Mapped[str | None] = mapped_column(String(64))  # covers this row alone: an edit, not a deletion

    __table_args__ = (
        Index("ix_attempts_message", "message_id", "number"),
        Index("ix_attempts_started", "started_at"),
    )


class LogDay(Base):
    """One Vietnam-time day of attempts: its sealed chain head and what retention has done to it since."""

    __tablename__ = "log_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    previous_head: Mapped[str] = mapped_column(String(64))  # the head of the day sealed before, or the genesis
    head: Mapped[str] = mapped_column(String(64))
    seal_mac: Mapped[str | None] = mapped_column(String(64))  # the key's MAC of day, rows, previous head and head
    sealed_at: Mapped[datetime]
    personal_purged_at: Mapped[datetime | None]
    redacted_purged_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    archive_file: Mapped[str | None] = mapped_column(String(255))


class Delivery(Base):
    """A dossier version pushed to a target: the unique key that makes at-least-once delivery exactly-once."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    dossier_version: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(60))
    message_id: Mapped[int | None] = mapped_column(BigId)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("dossier_code", "dossier_version", "target"),)


class Watermark(Base):
    """How far a poll of (system, unit) has durably got; the next poll asks for changes since here."""

    __tablename__ = "watermarks"

    system: Mapped[str] = mapped_column(String(60), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(UNIT), primary_key=True)
    value: Mapped[datetime]
    token: Mapped[str | None] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcedureMapping(Base):
    """A local procedure code's national procedure code and field; versioned, never edited in place."""

    __tablename__ = "procedure_mappings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    local_code: Mapped[str] = mapped_column(String(NAME))
    version: Mapped[int] = mapped_column(Integer)
    national_code: Mapped[str] = mapped_column(String(NAME))
    procedure_name: Mapped[str | None] = mapped_column(String(500))
    field_code: Mapped[str | None] = mapped_column(String(NAME))
    field_name: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(NAME))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("local_code", "version"),
        Index("ix_procedure_mappings_active", "local_code", "active"),
    )


class ReplayJob(Base):
    """A bulk replay: a filter over the integration log, counted first, then run in batches."""

    __tablename__ = "replay_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    filter: Mapped[dict[str, Any]]
    mode: Mapped[str] = mapped_column(String(12))  # original payload, or fresh fetch from the source
    state: Mapped[str] = mapped_column(String(12))  # counted, running, paused, cancelled, done
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    last_message_id: Mapped[int] = mapped_column(BigId, default=0)  # keyset cursor: resumable
    rate_per_second: Mapped[float | None]
    created_by: Mapped[str | None] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TargetSwitch(Base):
    """An operator's pause of deliveries to one target (e.g. during a portal outage)."""

    __tablename__ = "target_switches"

    target: Mapped[str] = mapped_column(String(60), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(NAME))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditAction(StrEnum):
    """What an audit entry records; the audit log's ``action`` column. Each has its label in the vocabulary."""

    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGIN_UNLOCK = "login.unlock"
    USER_CREATE = "user.create"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_ROLE = "user.role"
    USER_TOTP = "user.totp"
    USER_TOTP_OFF = "user.totp.off"
    MESSAGE_REPLAY = "message.replay"
    REPLAY_CREATE = "replay.create"
    REPLAY_RUNNING = "replay.running"
    REPLAY_PAUSED = "replay.paused"
    REPLAY_CANCELLED = "replay.cancelled"
    TARGET_PAUSE = "target.pause"
    TARGET_RESUME = "target.resume"
    SCHEDULE_PAUSE = "schedule.pause"
    SCHEDULE_RESUME = "schedule.resume"
    MAPPING_SET = "mapping.set"
    MAPPING_IMPORT = "mapping.import"


class AuditEntry(Base):
    """Who did what from the console or the CLI: logins, replays, pauses, mapping changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str | None] = mapped_column(String(NAME))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None]
    client: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_audit_log_at", "at"),)
