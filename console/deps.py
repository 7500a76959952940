"""The console's FastAPI dependencies, shared by its pages (``console.pages``) and JSON API (``console.api``): what
the application serves from, who is signed in, and the CSRF check.

A browser signs in with a session cookie and proves every form with a double-submit CSRF token (a cookie and the same
value in the form or the ``X-CSRF-Token`` header); an API client may instead send the session token as a bearer
token, which a browser never attaches on its own, so it needs no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from console import i18n
from console.alerts import AlertSettings
from console.auth import CurrentUser, Role, ThrottlePolicy, session_user
from foundation.topology import Topology
from hub.store.db import Database

SESSION_COOKIE = "dvc_session"
CSRF_COOKIE = "dvc_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
HOST_PREFIX = "__Host-"


@dataclass(slots=True)
class Console:
    """What the application serves from, and how it protects itself. ``production``: secure cookies, HSTS, no API
    docs unless ``api_docs``; ``metrics_token``: the bearer token ``/metrics`` asks for (None: not served here)."""

    db: Database
    topology: Topology | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings)
    production: bool = False
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    metrics_token: str | None = None
    max_body_bytes: int = 1_000_000
    api_docs: bool | None = None

    @property
    def secure_cookies(self) -> bool:
        return self.production

    # In production the cookies carry the __Host- prefix: a browser keeps such a cookie only if it is Secure, set by
    # the host itself and for the whole path, so no sibling subdomain can plant or overwrite one.
    @property
    def session_cookie(self) -> str:
        return HOST_PREFIX + SESSION_COOKIE if self.production else SESSION_COOKIE

    @property
    def csrf_cookie(self) -> str:
        return HOST_PREFIX + CSRF_COOKIE if self.production else CSRF_COOKIE

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else not self.production


class LoginRequired(Exception):
    """Raised when a page needs a signed-in user and there is none."""


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def db_session(request: Request) -> Iterator[Session]:
    with console(request).db.session() as session:
        yield session


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


_UNKNOWN = object()


def current_user(request: Request) -> CurrentUser | None:
    """The signed-in user, looked up once per request."""
    user = getattr(request.state, "user", _UNKNOWN)
    if user is _UNKNOWN:
        token = bearer_token(request) or session_token(request)
        with console(request).db.session() as session:
            user = session_user(session, token)
        request.state.user = user
    return user if isinstance(user, CurrentUser) else None


def page_user(role: Role = Role.VIEWER) -> Callable[[Request], CurrentUser]:
    """A page dependency: redirects to the login page without a session, 403 without the role."""

    def dependency(request: Request) -> CurrentUser:
        user = current_user(request)
        if user is None:
            raise LoginRequired
        if not user.can(role):
            raise HTTPException(status_code=403, detail=i18n.text("forbidden", language_of(request)))
        return user

    return dependency


def api_user(role: Role = Role.VIEWER) -> Callable[[Request], CurrentUser]:
    """An API dependency: 401 without a session, 403 without the role."""

    def dependency(request: Request) -> CurrentUser:
        user = current_user(request)
        if user is None:
            raise HTTPException(
                status_code=401,
                detail="Chưa đăng nhập (not signed in)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not user.can(role):
            raise HTTPException(status_code=403, detail=i18n.text("forbidden", "vi") + " (forbidden)")
        return user

    return dependency


def session_token(request: Request) -> str | None:
    """The session cookie's token, under the name this console gives it."""
    return request.cookies.get(console(request).session_cookie)


def csrf_token(request: Request) -> str | None:
    """The CSRF token a form must carry: with a session, an HMAC of the session's token (no other site can read
    it, and a planted CSRF cookie does not change it); before sign-in, the double-submit cookie's value."""
    session = session_token(request)
    if session:
        return hmac.new(session.encode(), b"dvc-hub csrf", hashlib.sha256).hexdigest()
    return request.cookies.get(console(request).csrf_cookie)


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token is not the session's (or, before sign-in, the cookie's);
    bearer clients excepted."""
    if bearer_token(request) is not None:
        return
    cookie = csrf_token(request) or ""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise HTTPException(status_code=403, detail=i18n.text("csrf_failed", language_of(request)) + " (CSRF)")


CsrfChecked = Depends(csrf_protect)


def language_of(request: Request) -> str:
    return i18n.language(request.cookies.get(i18n.COOKIE))
