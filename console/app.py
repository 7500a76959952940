"""The console's FastAPI application: wiring, sign-in, CSRF, language and the template environment.

Pages (``console.pages``) and the JSON API (``console.api``) share one set of dependencies defined here. A
browser signs in with a session cookie and proves every form with a double-submit CSRF token (a cookie and the same
value in the form or the ``X-CSRF-Token`` header); an API client may instead send the session token as a bearer
token, which a browser never attaches on its own, so it needs no CSRF token. Every response carries the headers of
``console.hardening``; the API description is served from the fastapi-offline package's assets, never from a CDN.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from console import i18n
from console.actions import ActionError
from console.alerts import AlertSettings
from console.auth import CurrentUser, Role, ThrottlePolicy, UserError, session_user
from console.hardening import BodyLimit, security_headers
from foundation.clock import VN_TZ
from foundation.errors import HubError
from foundation.topology import Topology
from hub.store.db import Database
from mappings.codes import Status

HERE = Path(__file__).resolve().parent
# Swagger UI's script and stylesheet, as the fastapi-offline package ships them (the console fetches nothing online).
SWAGGER_ASSETS = files("fastapi_offline") / "static"
SESSION_COOKIE = "dvc_session"
CSRF_COOKIE = "dvc_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


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


def _current(request: Request) -> CurrentUser | None:
    """The signed-in user, looked up once per request."""
    user = getattr(request.state, "user", _UNKNOWN)
    if user is _UNKNOWN:
        token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
        with console(request).db.session() as session:
            user = session_user(session, token)
        request.state.user = user
    return user if isinstance(user, CurrentUser) else None


def optional_user(request: Request) -> CurrentUser | None:
    return _current(request)


def page_user(role: Role = Role.VIEWER) -> Callable[[Request], CurrentUser]:
    """A page dependency: redirects to the login page without a session, 403 without the role."""

    def dependency(request: Request) -> CurrentUser:
        user = _current(request)
        if user is None:
            raise LoginRequired
        if not user.can(role):
            raise HTTPException(status_code=403, detail=i18n.text("forbidden", language_of(request)))
        return user

    return dependency


def api_user(role: Role = Role.VIEWER) -> Callable[[Request], CurrentUser]:
    """An API dependency: 401 without a session, 403 without the role."""

    def dependency(request: Request) -> CurrentUser:
        user = _current(request)
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


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token does not match the cookie (bearer clients excepted)."""
    if bearer_token(request) is not None:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
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


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    """A stored (UTC) time as Vietnamese local time."""
    return value.astimezone(VN_TZ).strftime(fmt) if value is not None else "—"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d"


def status_label(code: int | None, lang: str) -> str:
    if code is None:
        return "—"
    try:
        status = Status(code)
    except ValueError:
        return str(code)
    return f"{code} · {status.english_name if lang == 'en' else status.label}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["local"] = local_time
templates.env.filters["duration"] = duration
templates.env.filters["json"] = pretty_json


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page with what every template needs: the user, the language, its texts and the CSRF token."""
    lang = language_of(request)
    user = _current(request)
    base = {
        "user": user,
        "lang": lang,
        "t": lambda key, **kw: i18n.text(key, lang).format(**kw) if kw else i18n.text(key, lang),
        "csrf": request.state.csrf,
        "status_label": lambda code: status_label(code, lang),
        "Role": Role,
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code, headers=headers)


def create_app(console_: Console) -> FastAPI:
    """The console application over ``console_``'s database."""
    from console import api, metrics, pages

    app = FastAPI(
        title="dvc-hub admin API",
        version="1",
        description="Nhật ký liên thông, tra cứu hồ sơ, chạy lại và vận hành (integration log, dossier search, "
        "replay and operations). Sign in with POST /api/v1/session and send the token as a bearer token.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.console = console_
    app.state.metrics_registry = metrics.registry_for(console_.db)

    @app.middleware("http")
    async def csrf_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Every visitor gets a CSRF cookie before their first form; forms echo it back (double submit).
        existing = request.cookies.get(CSRF_COOKIE)
        request.state.csrf = existing or secrets.token_urlsafe(24)
        response = await call_next(request)
        if not existing:
            response.set_cookie(
                CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict", secure=console_.secure_cookies
            )
        for name, value in security_headers(request.url.path, production=console_.production).items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/metrics":
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return render(
            request, "error.html", {"status_code": exc.status_code, "message": exc.detail}, status_code=exc.status_code
        )

    @app.exception_handler(HubError)
    @app.exception_handler(ActionError)
    @app.exception_handler(UserError)
    @app.exception_handler(LookupError)
    async def refused(request: Request, exc: Exception) -> Response:
        # The hub refused the action for a reason the administrator can act on: say it, don't crash.
        status = 404 if isinstance(exc, LookupError) else 409
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return render(request, "error.html", {"status_code": status, "message": str(exc)}, status_code=status)

    if console_.serves_api_docs:

        @app.get("/api/docs", include_in_schema=False)
        def api_docs(request: Request) -> HTMLResponse:
            return templates.TemplateResponse(request, "api_docs.html", {})

        app.mount("/api/docs/assets", StaticFiles(directory=str(SWAGGER_ASSETS)), name="api-docs-assets")
    app.add_middleware(BodyLimit, limit=console_.max_body_bytes)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(metrics.router)
    return app
