"""The console's own tables: login sessions, sign-in throttles and alert incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.clock import utcnow
from hub.store.models import NAME, Base
from hub.store.types import BigId


class User(Base):
    """A local console user; roles: viewer, operator, admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(NAME), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; set: sign-in also needs a TOTP code
    # The 30-second step of the last TOTP code accepted: a code of that step or an earlier one is refused (single use).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class AdminSession(Base):
    """A signed-in browser: only the SHA-256 of the cookie's token is stored, so a leaked table opens nothing."""

    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    client: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_admin_sessions_user", "user_id"),)


class Incident(Base):
    """One alerting condition while it lasts: opened once, updated while it holds, closed on recovery."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))  # the condition, e.g. "target_failing:dvcqg"
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(NAME))
    state: Mapped[str] = mapped_column(String(8))  # open, closed
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    evaluations: Mapped[int] = mapped_column(Integer, default=1)
    notified: Mapped[str | None] = mapped_column(String(8))  # the last state the webhook accepted

    __table_args__ = (
        Index("ix_incidents_key_state", "key", "state"),
        Index("ix_incidents_state_opened", "state", "opened_at"),
    )


class SignInThrottle(Base):
    """Failed sign-ins counted per typed username or per client address, and until when that key must wait."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # username, client
    value: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(default=False)  # a lockout, not just a growing delay

    __table_args__ = (Index("ux_sign_in_throttles_key", "kind", "value", unique=True),)
