"""The console's FastAPI application: its pages, JSON API and metrics behind the CSRF cookie, the security headers
and the error pages. Build it with ``create_app(Console(db))``; the dependencies live in :mod:`console.deps`.

Every response carries the headers of :mod:`console.hardening`; the API description is served from the
fastapi-offline package's assets, never from a CDN, and in production its schema only to a signed-in user.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from console import api, i18n, metrics, pages
from console import reports as report_views
from console.actions import ActionError
from console.auth import CurrentUser, UserError
from console.deps import Console, LoginRequired, api_user, csrf_token
from console.hardening import BodyLimit, SecurityHeaders, security_headers
from console.rendering import render, templates
from foundation.errors import HubError

__all__ = ["Console", "create_app"]  # an application is built from the Console it serves: create_app(Console(db))

HERE = Path(__file__).resolve().parent
# Swagger UI's script and stylesheet, as the fastapi-offline package ships them (the console fetches nothing online).
SWAGGER_ASSETS = files("fastapi_offline") / "static"
OPENAPI_URL = "/api/v1/openapi.json"
SERVER_ERROR = "Lỗi máy chủ, đã ghi vào nhật ký: hãy thử lại hoặc báo quản trị viên (internal server error)"


def create_app(console_: Console) -> FastAPI:
    """The console application over ``console_``'s database."""
    app = FastAPI(
        title="dvc-hub admin API",
        version="1",
        description="Nhật ký liên thông, tra cứu hồ sơ, chạy lại và vận hành (integration log, dossier search, "
        "replay and operations). Sign in with POST /api/v1/session and send the token as a bearer token.",
        docs_url=None,
        redoc_url=None,
        # In production the schema is a map for an attacker: served below, behind sign-in, instead.
        openapi_url=None if console_.production else OPENAPI_URL,
    )
    app.state.console = console_
    app.state.metrics_registry = metrics.registry_for(console_.db)

    @app.middleware("http")
    async def csrf_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Every visitor gets a CSRF cookie before their first form; forms echo it back (double submit).
        # Once signed in, the token is bound to the session instead (console.deps.csrf_token).
        existing = request.cookies.get(console_.csrf_cookie)
        fresh = None if existing else secrets.token_urlsafe(24)
        request.state.csrf = csrf_token(request) or fresh
        response = await call_next(request)
        if fresh is not None:
            response.set_cookie(
                console_.csrf_cookie, fresh, httponly=True, samesite="strict", secure=console_.secure_cookies
            )
        return response

    @app.exception_handler(Exception)
    async def server_error(request: Request, _exc: Exception) -> Response:
        # Starlette answers an unexpected exception outside every middleware, so this answer carries the headers
        # itself; it renders no template (the failure may be the database a page needs). The traceback is logged.
        headers = security_headers(request.url.path, production=console_.production)
        if request.url.path.startswith("/api/") or request.url.path == "/metrics":
            return JSONResponse({"detail": SERVER_ERROR}, status_code=500, headers=headers)
        page = f'<!doctype html><html lang="vi"><title>500</title><h1>500</h1><p>{SERVER_ERROR}</p><a href="/">↩</a>'
        return HTMLResponse(page, status_code=500, headers=headers)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/metrics":
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return render(
            request, "error.html", {"status_code": exc.status_code, "message": exc.detail}, status_code=exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's shape (a list of loc/msg/type) as the schema documents it, each msg Vietnamese first.
        errors = [{**e, "msg": i18n.invalid_input(e)} for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            fields = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in errors]
            return JSONResponse({"detail": fields}, status_code=422)
        message = "; ".join(e["msg"] for e in errors)
        return render(request, "error.html", {"status_code": 422, "message": message}, status_code=422)

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

    if console_.production:

        @app.get(OPENAPI_URL, include_in_schema=False)
        def openapi_schema(user: Annotated[CurrentUser, Depends(api_user())]) -> JSONResponse:
            return JSONResponse(app.openapi())

    if console_.serves_api_docs:

        @app.get("/api/docs", include_in_schema=False)
        def api_docs(request: Request) -> HTMLResponse:
            return templates.TemplateResponse(request, "api_docs.html", {})

        app.mount("/api/docs/assets", StaticFiles(directory=str(SWAGGER_ASSETS)), name="api-docs-assets")
    app.add_middleware(BodyLimit, limit=console_.max_body_bytes)
    app.add_middleware(SecurityHeaders, production=console_.production)  # outermost: BodyLimit's 413 included
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(metrics.router)
    app.include_router(report_views.pages)
    app.include_router(report_views.api)
    return app
