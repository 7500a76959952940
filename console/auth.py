"""Console users, their sessions and the audit log: who may do what, and a record of what they did.

Passwords are hashed with Argon2id; a session cookie carries a random token whose SHA-256 is kept server-side, so
sessions can be revoked (disabling a user ends them at once). Roles are ordered: a viewer reads metadata with
personal data redacted, an operator also sees payloads and replays, an admin also manages configuration and users.

Sign-in resists guessing: failures are counted per typed username and per client address; past a few, each key
waits a growing delay, and past a limit it is locked for a while (:class:`ThrottlePolicy`). A waiting key is refused
without looking at the password, every refusal is audited in its own transaction, and an admin can lift a lockout.
Passwords must be 12+ characters and not guessable (zxcvbn, with the username and the product's words as context);
a user with a TOTP secret (pyotp) also needs the current code.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from console.models import AdminSession, SignInThrottle
from foundation.clock import utcnow
from hub.store.db import Database
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


MIN_PASSWORD = 12
# zxcvbn's score 3: "safely unguessable" against an online attack and a throttled offline one.
MIN_PASSWORD_SCORE = 3
# Words an attacker tries first against this product's users, besides the username (zxcvbn's user_inputs).
CONTEXT_WORDS = ("dvc-hub", "dvchub", "dvcqg", "dichvucong", "motcua", "mot cua", "admin", "quantri", "lienthong")


def check_password(username: str, password: str) -> None:
    """Refuse a password shorter than 12 characters, containing the username or the product's words, or guessable
    from common passwords, words and patterns (zxcvbn's dictionaries, maintained upstream)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(
            f"Mật khẩu của {username!r} phải có ít nhất {MIN_PASSWORD} ký tự "
            f"(password must be {MIN_PASSWORD}+ characters)"
        )
    folded = password.casefold()
    if any(len(word) >= 4 and word.casefold() in folded for word in (username, *CONTEXT_WORDS)):
        raise UserError(
            f"Mật khẩu của {username!r} không được chứa tên đăng nhập hay tên hệ thống "
            "(password must not contain the username or the product's name)"
        )
    verdict = zxcvbn(password, user_inputs=[username, *CONTEXT_WORDS], max_length=500)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"].get("warning") or "too easy to guess"
        raise UserError(f"Mật khẩu của {username!r} quá dễ đoán (password refused: {hint})")


def create_user(session: Session, username: str, password: str, role: Role, *, actor: str | None = None) -> User:
    """Add a user; the password must pass :func:`check_password`."""
    username = username.strip()
    if not username:
        raise UserError("Tên đăng nhập không được để trống (username must not be empty)")
    check_password(username, password)
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


def set_totp(session: Session, username: str, *, enable: bool, actor: str | None = None) -> str | None:
    """Give a user a new TOTP secret (returns its provisioning URI for an authenticator app), or remove it."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    user.totp_secret = pyotp.random_base32() if enable else None
    audit(session, actor, "user.totp" if enable else "user.totp.off", username, None)
    if user.totp_secret is None:
        return None
    uri: str = pyotp.TOTP(user.totp_secret).provisioning_uri(name=username, issuer_name="dvc-hub")
    return uri


def _second_factor_ok(user: User, code: str | None) -> bool:
    if user.totp_secret is None:
        return True
    # One step of clock drift either way, as authenticator apps drift.
    return bool(code) and pyotp.TOTP(user.totp_secret).verify(code or "", valid_window=1)


def authenticate(
    session: Session, username: str, password: str, *, client: str | None = None, totp: str | None = None
) -> User | None:
    """The user if the password (and TOTP code, when the user has a secret) matches and the account is enabled;
    every attempt is audited."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None and (user.disabled or not _second_factor_ok(user, totp)):
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


# --- sign-in throttle -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How failed sign-ins slow a key down: ``free_failures`` cost nothing, each further one doubles the wait from
    ``first_delay`` up to ``max_delay``, and at the lockout limit the key is locked for ``lockout``. A client address
    may front many users (a ward's NAT), so it gets a higher limit than a username."""

    free_failures: int = 3
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=1)
    user_lockout_after: int = 10
    client_lockout_after: int = 30
    lockout: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)  # a key quiet this long starts counting again

    def wait(self, failures: int, lockout_after: int) -> tuple[timedelta | None, bool]:
        """How long a key with ``failures`` must wait, and whether that is a lockout."""
        if failures >= lockout_after:
            return self.lockout, True
        if failures <= self.free_failures:
            return None, False
        return min(self.first_delay * 2 ** (failures - self.free_failures - 1), self.max_delay), False


class SignInRefused(Exception):
    """Raised when a sign-in is refused: wrong credentials, or the username or client address must wait."""

    def __init__(self, retry_after: timedelta | None) -> None:
        super().__init__("sign-in refused")
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int | None:
        return math.ceil(self.retry_after.total_seconds()) if self.retry_after else None


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    username: str
    role: Role


def sign_in(
    db: Database,
    username: str,
    password: str,
    *,
    client: str | None,
    policy: ThrottlePolicy,
    totp: str | None = None,
) -> SignedIn:
    """Check the credentials unless the username or client must wait; open a session, or raise
    :class:`SignInRefused` after the failure is counted and audited in a transaction of its own (so it stays
    recorded whatever the caller does next)."""
    keys = _keys(username, client, policy)
    with db.session() as session:
        now = utcnow()
        rows = _throttles(session, keys)
        waiting = max(
            (r.blocked_until for r in rows.values() if r.blocked_until and r.blocked_until > now), default=None
        )
        if waiting is None:
            user = authenticate(session, username, password, client=client, totp=totp)
            if user is not None:
                session.execute(
                    delete(SignInThrottle).where(SignInThrottle.kind == "username", SignInThrottle.value == username)
                )
                return SignedIn(open_session(session, user, client=client), user.username, Role(user.role))
        else:
            audit(session, username, "login.throttled", username, {"until": waiting.isoformat()}, client=client)
        until = _count_failure(session, keys, rows, now, policy)
    raise SignInRefused(until - now if until is not None else None)


def _keys(username: str, client: str | None, policy: ThrottlePolicy) -> list[tuple[str, str, int]]:
    keys = [("username", username[:200], policy.user_lockout_after)]
    if client:
        keys.append(("client", client[:200], policy.client_lockout_after))
    return keys


def _throttles(session: Session, keys: list[tuple[str, str, int]]) -> dict[tuple[str, str], SignInThrottle]:
    found = {}
    for kind, value, _limit in keys:
        row = session.scalar(select(SignInThrottle).where(SignInThrottle.kind == kind, SignInThrottle.value == value))
        if row is not None:
            found[kind, value] = row
    return found


def _count_failure(
    session: Session,
    keys: list[tuple[str, str, int]],
    rows: dict[tuple[str, str], SignInThrottle],
    now: datetime,
    policy: ThrottlePolicy,
) -> datetime | None:
    """Count one failure on every key; the latest time any of them must wait until, if any."""
    latest: datetime | None = None
    for kind, value, limit in keys:
        row = rows.get((kind, value))
        if row is None:
            row = SignInThrottle(kind=kind, value=value, failures=0, locked=False)
            session.add(row)
        elif now - row.last_failure_at > policy.forget_after and not (row.blocked_until and row.blocked_until > now):
            row.failures, row.locked = 0, False
        row.failures += 1
        row.last_failure_at = now
        wait, locked = policy.wait(row.failures, limit)
        if wait is not None:
            row.blocked_until = max(row.blocked_until or now, now + wait)
            row.locked = row.locked or locked
        if row.blocked_until is not None and row.blocked_until > now:
            latest = max(latest or row.blocked_until, row.blocked_until)
    return latest


def blocked_keys(session: Session, *, now: datetime | None = None) -> list[SignInThrottle]:
    """Usernames and client addresses that must wait now, lockouts first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(SignInThrottle)
            .where(SignInThrottle.blocked_until > now)
            .order_by(SignInThrottle.locked.desc(), SignInThrottle.blocked_until.desc())
        )
    )


def lift_block(session: Session, throttle_id: int, *, actor: str, client: str | None = None) -> SignInThrottle:
    """Forget a key's failures, so its user or address may sign in again at once."""
    row = session.get(SignInThrottle, throttle_id)
    if row is None:
        raise UserError(f"Không có khóa đăng nhập {throttle_id} (no such sign-in lockout)")
    session.delete(row)
    audit(session, actor, "login.unlock", f"{row.kind}:{row.value}", {"failures": row.failures}, client=client)
    return row
