"""Console users, their sessions and the audit log: who may do what, and a record of what they did.

Passwords are hashed with Argon2id; a session cookie carries a random token whose SHA-256 is kept server-side, so
sessions can be revoked (disabling a user ends them at once). Roles are ordered: a viewer reads metadata with
personal data redacted, an operator also sees payloads and replays, an admin also manages configuration and users.

Sign-in resists guessing without handing a stranger the power to lock anyone out (:class:`ThrottlePolicy`): each
(username, client address) pair waits a growing delay after a few failures, a client address is locked past a
limit, and an account is locked only when failures come from several addresses, so one address, however busy, slows
only itself. A waiting key is refused without looking at the password; every attempt is audited, and each failure
is counted with one UPSERT per key in a transaction of its own (parallel guesses neither race nor fail). An admin
lifts a lockout in the console or with ``dvc-hub users unlock``.
Passwords must be 12+ characters and not guessable (zxcvbn, with the username, the product's words and the province's
place names and year as context: :func:`password_context`);
a user with a TOTP secret (pyotp) also needs the current code.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyotp.exceptions import OTPVerificationError
from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from console.models import AdminSession, SignInThrottle, User
from foundation.clock import utcnow
from foundation.topology import Topology
from hub.store.db import Database
from hub.store.models import AuditAction, AuditEntry

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


# What a unit's name starts with; the place name after it is what an attacker tries ("Tỉnh Quảng Nam" → "quangnam").
_UNIT_KINDS = re.compile(r"^(ubnd |tinh |thanh pho |thi xa |thi tran |huyen |quan |phuong |xa |so )+")


def _folded(text: str) -> str:
    """Lower case without accents, đ as d: how a place name is typed into a password ("Đà Nẵng" → "da nang")."""
    marks = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in marks if not unicodedata.combining(c))


def password_context(topology: Topology | None, year: int) -> tuple[str, ...]:
    """The words of this deployment an attacker tries first: the province's and its units' place names, folded and
    without spaces ("quangnam", "tamky", "nuithanh"), and the year with the one before it."""
    names = [] if topology is None else [topology.name, *(unit.name for unit in topology.spec.units)]
    places = set()
    for name in names:
        bare = _UNIT_KINDS.sub("", re.sub(r"[\d\s]+", " ", _folded(name)).strip())
        places.add(re.sub(r"[^a-z]", "", bare))
    return (*sorted(p for p in places if len(p) >= 4), str(year), str(year - 1))


def check_password(username: str, password: str, context: Sequence[str] = ()) -> None:
    """Refuse a password shorter than 12 characters, containing the username, the product's words or a place name
    of ``context`` (:func:`password_context`), or guessable from common passwords, words and patterns (zxcvbn's
    dictionaries, maintained upstream, with ``context`` among them)."""
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
    letters = re.sub(r"[^a-z]", "", _folded(password))
    if any(word.isalpha() and word in letters for word in context):
        raise UserError(
            f"Mật khẩu của {username!r} không được chứa địa danh của tỉnh hay đơn vị "
            "(password must not contain the name of the province or one of its units)"
        )
    verdict = zxcvbn(password, user_inputs=[username, *CONTEXT_WORDS, *context], max_length=500)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"].get("warning") or "too easy to guess"
        raise UserError(f"Mật khẩu của {username!r} quá dễ đoán (password refused: {hint})")


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    actor: str | None = None,
    context: Sequence[str] = (),
) -> User:
    """Add a user; the password must pass :func:`check_password` with ``context`` (:func:`password_context`)."""
    username = username.strip()
    if not username:
        raise UserError("Tên đăng nhập không được để trống (username must not be empty)")
    check_password(username, password, context)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"Người dùng {username!r} đã tồn tại (user already exists)")
    user = User(username=username, password_hash=hash_password(password), role=Role(role).value)
    session.add(user)
    session.flush()
    audit(session, actor, AuditAction.USER_CREATE, username, {"role": user.role})
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str | None = None) -> User:
    """Disable (or enable again) a user; disabling ends their sessions."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    user.disabled = disabled
    if disabled:
        session.execute(delete(AdminSession).where(AdminSession.user_id == user.id))
    audit(session, actor, AuditAction.USER_DISABLE if disabled else AuditAction.USER_ENABLE, username, None)
    return user


def set_role(session: Session, username: str, role: Role, *, actor: str | None = None) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    old = user.role
    user.role = Role(role).value
    audit(session, actor, AuditAction.USER_ROLE, username, {"from": old, "to": user.role})
    return user


def set_totp(session: Session, username: str, *, enable: bool, actor: str | None = None) -> str | None:
    """Give a user a new TOTP secret (returns its provisioning URI for an authenticator app), or remove it."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    user.totp_secret = pyotp.random_base32() if enable else None
    user.totp_last_step = None
    ended = 0
    if enable:  # a session or API token opened with the password alone must not outlive the second factor
        ended = session.execute(delete(AdminSession).where(AdminSession.user_id == user.id)).rowcount  # type: ignore[attr-defined]
    audit(
        session,
        actor,
        AuditAction.USER_TOTP if enable else AuditAction.USER_TOTP_OFF,
        username,
        {"sessions_ended": ended} if enable else None,
    )
    if user.totp_secret is None:
        return None
    uri: str = pyotp.TOTP(user.totp_secret).provisioning_uri(name=username, issuer_name="dvc-hub")
    return uri


def _second_factor_ok(session: Session, user: User, code: str | None) -> bool:
    """Whether ``code`` is the user's TOTP code of now (one step of drift either way, as authenticator apps drift)
    and no code of its step or a later one was accepted before: a code works once. The step is recorded by one
    conditional UPDATE, so of two sign-ins racing with the same code only one gets through."""
    if user.totp_secret is None:
        return True
    if not code:
        return False
    try:
        step = pyotp.TOTP(user.totp_secret).verify_and_get_timecode(code.strip(), valid_window=1)
    except OTPVerificationError:
        return False
    spent = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def authenticate(session: Session, username: str, password: str, *, totp: str | None = None) -> User | None:
    """The user if the password (and TOTP code, when the user has a secret) matches and the account is enabled;
    the caller audits the attempt."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or user.disabled or not _second_factor_ok(session, user, totp):
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
    """How failed sign-ins slow keys down and lock them.

    A (username, client address) pair has ``free_failures`` free, then waits a delay doubling from ``first_delay``
    up to ``max_delay``. A client address is locked for ``lockout`` after ``client_lockout_after`` failures over any
    usernames (it may front a ward's NAT, hence a higher limit); a pair or an address that fails while it waits
    waits longer, which holds up only itself. An account is locked for ``lockout`` only once it has
    ``user_lockout_after`` failures coming from at least ``lockout_addresses`` addresses that failed within
    ``forget_after``, and failures during that lock do not prolong it: one address alone never locks an account,
    and nobody keeps one locked by going on failing.
    """

    free_failures: int = 3
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=1)
    user_lockout_after: int = 10
    lockout_addresses: int = 3
    client_lockout_after: int = 30
    lockout: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)  # a key quiet this long starts counting again

    def wait(self, failures: int, lockout_after: int | None = None) -> tuple[timedelta | None, bool]:
        """How long a key with ``failures`` must wait, and whether that is a lockout (never without a limit)."""
        if lockout_after is not None and failures >= lockout_after:
            return self.lockout, True
        if failures <= self.free_failures:
            return None, False
        return min(self.first_delay * 2 ** min(failures - self.free_failures - 1, 32), self.max_delay), False


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
    """Check the credentials unless a key of this attempt must wait; open a session, or raise
    :class:`SignInRefused` once the failure is counted and audited in a transaction of its own (so it stays
    recorded whatever the caller does next, and it begins by writing, so parallel attempts queue instead of failing)."""
    keys = _Keys.of(username, client)
    now = utcnow()
    with db.session() as session:
        waits = session.scalars(
            select(SignInThrottle.blocked_until).where(keys.where(), SignInThrottle.blocked_until > now)
        )
        waiting = max((w for w in waits if w is not None), default=None)
        if waiting is None:
            user = authenticate(session, username, password, totp=totp)
            if user is not None:
                audit(session, username, AuditAction.LOGIN, username, None, client=client)
                session.execute(delete(SignInThrottle).where(keys.where(client=False)))
                return SignedIn(open_session(session, user, client=client), user.username, Role(user.role))
    with db.session() as session:
        # Counting comes first: its UPSERTs write at once (parallel attempts queue instead of failing) and hold the
        # pair's row, so the audit row below is read and raised by one attempt at a time.
        until = _count_failure(session, keys, now, policy)
        _audit_refusal(session, username, client, now, waiting)
    raise SignInRefused(until - now if until is not None else None)


def _audit_refusal(
    session: Session, username: str, client: str | None, now: datetime, waiting: datetime | None
) -> None:
    """Audit a refused sign-in as one row per typed name, client address and minute, with a count: a flood of
    guesses is recorded whole without writing a row each."""
    action = AuditAction.LOGIN_FAILED if waiting is None else AuditAction.LOGIN_THROTTLED
    same_client = AuditEntry.client == client if client is not None else AuditEntry.client.is_(None)
    minute = now.replace(second=0, microsecond=0)
    row = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.subject == username, same_client, AuditEntry.at >= minute)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    details: dict[str, Any] = {"count": 1 + (int((row.details or {}).get("count", 1)) if row is not None else 0)}
    if waiting is not None:
        details["until"] = waiting.isoformat()
    if row is None:
        audit(session, username, action, username, details, client=client)
    else:
        row.details = details


@dataclass(frozen=True, slots=True)
class _Keys:
    """The throttle keys of one attempt: the typed username, the client address, and the pair of both."""

    username: str
    client: str

    @classmethod
    def of(cls, username: str, client: str | None) -> _Keys:
        # An address never holds "|" (the pair's separator), so a pair's value splits back into exactly its two.
        return cls(username[:139], (client or "?").replace("|", "_")[:60])

    @property
    def pair(self) -> str:
        return f"{self.client}|{self.username}"

    def all(self) -> list[tuple[str, str]]:
        return [("pair", self.pair), ("client", self.client), ("username", self.username)]

    def where(self, *, client: bool = True) -> Any:
        keys = [(kind, value) for kind, value in self.all() if client or kind != "client"]
        return or_(*(and_(SignInThrottle.kind == kind, SignInThrottle.value == value) for kind, value in keys))


def _count_failure(session: Session, keys: _Keys, now: datetime, policy: ThrottlePolicy) -> datetime | None:
    """Count one failure on every key of the attempt; the latest time any of them must wait until, if any."""
    latest: datetime | None = None
    for kind, value in keys.all():
        row = _counted(session, kind, value, now, policy)
        blocked = row.blocked_until if row.blocked_until is not None and row.blocked_until > now else None
        if kind == "username":
            # Only failures from several addresses lock an account, and a lock runs out when it said: nobody
            # keeps it locked by going on failing.
            spread = row.failures >= policy.user_lockout_after and (
                _addresses(session, keys.username, now - policy.forget_after) >= policy.lockout_addresses
            )
            if blocked is None and spread:
                blocked = _block(session, row.id, now + policy.lockout, locked=True)
        else:
            # A pair or an address that goes on failing waits longer each time: it holds up only itself.
            limit = policy.client_lockout_after if kind == "client" else None
            wait, locks = policy.wait(row.failures, limit)
            if wait is not None and (blocked is None or now + wait > blocked):
                blocked = _block(session, row.id, now + wait, locked=locks or row.locked)
        if blocked is not None:
            latest = max(latest or blocked, blocked)
    return latest


def _block(session: Session, throttle_id: int, until: datetime, *, locked: bool) -> datetime:
    session.execute(
        update(SignInThrottle).where(SignInThrottle.id == throttle_id).values(blocked_until=until, locked=locked)
    )
    return until


class _Count(NamedTuple):
    id: int
    failures: int
    blocked_until: datetime | None
    locked: bool


def _counted(session: Session, kind: str, value: str, now: datetime, policy: ThrottlePolicy) -> _Count:
    """One more failure on a key, in one statement (INSERT ... ON CONFLICT DO UPDATE): parallel failures each
    count, none of them meets the unique key; a key quiet for ``forget_after`` and not waiting starts again."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stale = and_(
        SignInThrottle.last_failure_at < now - policy.forget_after,
        or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until <= now),
    )
    statement = (
        insert(SignInThrottle)
        .values(kind=kind, value=value, failures=1, last_failure_at=now, locked=False)
        .on_conflict_do_update(
            index_elements=[SignInThrottle.kind, SignInThrottle.value],
            set_={
                "failures": case((stale, 1), else_=SignInThrottle.failures + 1),
                "locked": case((stale, False), else_=SignInThrottle.locked),
                "last_failure_at": now,
            },
        )
        .returning(SignInThrottle.id, SignInThrottle.failures, SignInThrottle.blocked_until, SignInThrottle.locked)
    )
    return _Count(*session.execute(statement).one())


def _addresses(session: Session, username: str, since: datetime) -> int:
    """How many client addresses failed to sign in as ``username`` since ``since``."""
    values = session.scalars(
        select(SignInThrottle.value).where(
            SignInThrottle.kind == "pair",
            SignInThrottle.value.endswith(f"|{username}", autoescape=True),
            SignInThrottle.last_failure_at >= since,
        )
    )
    # The suffix also matches a typed username that ends in "|name": only an exact split counts.
    return len({client for client, _, name in (v.partition("|") for v in values) if name == username})


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
    audit(
        session, actor, AuditAction.LOGIN_UNLOCK, f"{row.kind}:{row.value}", {"failures": row.failures}, client=client
    )
    return row


def unlock_user(session: Session, username: str, *, actor: str, client: str | None = None) -> int:
    """Lift an account's lockout and every delay its pairs wait; returns how many keys were lifted."""
    keys = _Keys.of(username, None)
    if session.scalar(select(User.id).where(User.username == username)) is None:
        raise UserError(f"Không có người dùng {username!r} (no such user)")
    rows = [
        row
        for row in session.scalars(
            select(SignInThrottle).where(
                or_(
                    and_(SignInThrottle.kind == "username", SignInThrottle.value == keys.username),
                    and_(
                        SignInThrottle.kind == "pair",
                        SignInThrottle.value.endswith(f"|{keys.username}", autoescape=True),
                    ),
                )
            )
        )
        if row.kind == "username" or row.value.partition("|")[2] == keys.username
    ]
    for row in rows:
        session.delete(row)
    audit(session, actor, AuditAction.LOGIN_UNLOCK, f"username:{username}", {"keys": len(rows)}, client=client)
    return len(rows)
