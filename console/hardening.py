"""What every console response carries and what every request may not exceed: security headers (CSP without inline
script, no-store, HSTS in production) on every answer, errors included, a request body size limit that refuses before
reading, and the server's
configuration (proxy headers believed only from configured proxies, uvicorn's logs through the structured handler,
timeouts and a connection limit against slow clients).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from foundation.settings import Settings, get_settings

# Everything from this origin only: no inline script or style, no plugins, no framing, forms post only here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(path: str, *, production: bool) -> dict[str, str]:
    """The headers for a response to ``path``: static assets may be cached, nothing else (pages and API answers
    may hold personal data and must not stay in a shared browser's cache)."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if not path.startswith(("/static/", "/api/docs/assets/")):
        headers["Cache-Control"] = "no-store"
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeaders:
    """Add :func:`security_headers` to every response that passes through, whoever wrote it (a route, an error
    handler, :class:`BodyLimit`); a header the response already set is kept."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (k.lower().encode(), v.encode())
            for k, v in security_headers(scope["path"], production=self.production).items()
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes with 413, before the application reads it: by its
    Content-Length when it has one (the server never reads past it), otherwise by buffering at most ``limit`` bytes."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await _too_large(send, self.limit)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _too_large(send, self.limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"Yêu cầu quá lớn (request body over {limit} bytes)"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ConsoleConfig(uvicorn.Config):
    """uvicorn's configuration plus what :class:`GuardedH11Protocol` enforces."""

    def __init__(self, app: ASGIApp, *, header_timeout: float, max_connections: int, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout = header_timeout
        self.max_connections = max_connections


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with what it lacks against slow clients: a request's headers must arrive within
    ``header_timeout`` of the connection opening or the previous answer ending (uvicorn times only an idle keep-alive,
    so a client sending a header line every few seconds held its connection for good), and connections beyond
    ``max_connections`` are closed as they open (``limit_concurrency`` only answers 503 once a request is complete)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        assert isinstance(config, ConsoleConfig)  # server_config builds it
        self.header_timeout = config.header_timeout
        self.max_connections = config.max_connections
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()
            return
        self._arm()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers are in: its handling is the application's business
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._cut)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cut(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    trusted_proxies: Sequence[str] = (),
    settings: Settings | None = None,
) -> uvicorn.Config:
    """How uvicorn serves the console: X-Forwarded-For is believed only from ``trusted_proxies`` (uvicorn's default
    trusts 127.0.0.1, which is any local process), ``log_config=None`` leaves uvicorn's lines and tracebacks to the
    root handler that :func:`foundation.logs.configure` set up (JSON lines in production), and slow or numerous
    clients are cut (:class:`GuardedH11Protocol`, the ``console_*`` timeouts and limits of the settings)."""
    settings = settings or get_settings()
    return ConsoleConfig(
        app,
        header_timeout=settings.console_header_timeout,
        max_connections=settings.console_max_connections,
        http=GuardedH11Protocol,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,
        lifespan="off",
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
        server_header=False,
        timeout_keep_alive=settings.console_keep_alive_timeout,
        limit_concurrency=settings.console_max_connections,
        h11_max_incomplete_event_size=16 * 1024,  # a request line and headers larger than this are a 400
    )
