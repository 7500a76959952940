"""Console users, their sessions and the audit log: who may do what, and a record of what they did.

Passwords are hashed with Argon2id; a session cookie carries a random token whose SHA-256 is kept server-side, so
sessions can be revoked (disabling a user ends them at once). Roles are ordered: a viewer reads metadata with
personal data redacted, an operator also sees payloads and replays, an admin also manages configuration and users.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.models import AdminSession
from foundation.clock import utcnow
from hub.store.models import AuditEntry, User

SESSION_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the answer time the same (no username probing).
_DUMMY_HASH = _hasher.hash("not a password")


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class UserError(ValueError):
    """Raised when a user cannot be created or changed as asked (duplicate name, weak password, unknown user)."""


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in user as the console sees them."""

    id: int
    username: str
    role: Role

    @property
    def sees_personal_data(self) -> bool:
        return self.role.allows(Role.OPERATOR)

    def can(self, needed: Role) -> bool:
        return self.role.allows(needed)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: Role, *, actor: str | None = None) -> User:
    """Add a user; the password must be at least 10 characters."""
    username = username.strip()
    if not username:
        raise UserError("Tên đăng nhập không được để trống (username must not be empty)")
    if len(password) < 10:
        raise UserError(f"Mật khẩu của {username!r} phải có ít nhất 10 ký tự (password must be 10+ characters)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"Người dùng {username!r} đã tồn tại (user already exists)")
    user = User(username=username, password_hash=hash_password(password), role=Role(role).value)
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", username, {"role": user.role})
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str | None = None) -> User:
    """Disable (or enable again) a user; disabling ends their sessions."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    user.disabled = disabled
    if disabled:
        session.execute(delete(AdminSession).where(AdminSession.user_id == user.id))
    audit(session, actor, "user.disable" if disabled else "user.enable", username, None)
    return user


def set_role(session: Session, username: str, role: Role, *, actor: str | None = None) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    old = user.role
    user.role = Role(role).value
    audit(session, actor, "user.role", username, {"from": old, "to": user.role})
    return user


def authenticate(session: Session, username: str, password: str, *, client: str | None = None) -> User | None:
    """The user if the password matches and the account is enabled; every attempt is audited."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None and user.disabled:
        ok = False
    audit(session, username, "login" if ok else "login.failed", username, None, client=client)
    if not ok or user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, *, client: str | None = None) -> str:
    """A new session for ``user``; returns the token to put in the cookie (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AdminSession(
            token_hash=_digest(token), user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME, client=client
        )
    )
    return token


def session_user(session: Session, token: str | None, *, now: datetime | None = None) -> CurrentUser | None:
    """The user behind a session cookie, if the session is alive and the user enabled."""
    if not token:
        return None
    row = session.execute(
        select(User.id, User.username, User.role, User.disabled, AdminSession.expires_at)
        .join(AdminSession, AdminSession.user_id == User.id)
        .where(AdminSession.token_hash == _digest(token))
    ).first()
    if row is None or row.disabled or row.expires_at <= (now or utcnow()):
        return None
    return CurrentUser(id=row.id, username=row.username, role=Role(row.role))


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(AdminSession).where(AdminSession.token_hash == _digest(token)))


def audit(
    session: Session,
    username: str | None,
    action: str,
    subject: str | None,
    details: dict[str, Any] | None,
    *,
    client: str | None = None,
) -> None:
    """Write one audit entry in the caller's transaction, so the action and its record commit together."""
    session.add(AuditEntry(username=username, action=action, subject=subject, details=details, client=client))
