"""One system's HTTP calls: rate limit, circuit breaker, recording, and the boundary where ``requests`` fails.

Both connectors send through an :class:`Endpoint`: the REST connector for its JSON calls, the SOAP connector through
zeep's transport. Whatever ``requests`` raises is translated here, once, into :mod:`hub.errors`. A redirect is
followed only to the host the call went to or one the system's configuration lists (``redirect_hosts``): a 307
re-sends the body, so following a stranger would hand it the dossier or the login's password.
"""

from __future__ import annotations

import json as _json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE

from connectors.deadline import DeadlineAdapter, deadline
from connectors.errors import (
    DEFAULT_BOUNDS,
    DEFAULT_TABLE,
    Bounds,
    CircuitOpen,
    ErrorTable,
    RedirectRefused,
    RemoteTimeout,
    RemoteUnavailable,
    Resolution,
    Verdict,
    from_transport,
    to_error,
)
from connectors.protection import CircuitBreaker, RateLimiter
from connectors.recording import Exchange, NullRecorder, Recorder, kept_headers, wire_text
from foundation.clock import VN_TZ
from foundation.errors import HubError
from foundation.redaction import scrub

Clock = Callable[[], datetime]


def vn_now() -> datetime:
    return datetime.now(VN_TZ)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Connect and read bounds in seconds; ``requests`` and zeep have no timeout unless told."""

    connect: float = 5.0
    read: float = 30.0

    @property
    def pair(self) -> tuple[float, float]:
        return (self.connect, self.read)


def pooled_session(pool_size: int) -> requests.Session:
    """A session whose connection pool holds one connection per worker thread, so threads never queue for one;
    its connections can be cut off by a call's overall deadline."""
    session = requests.Session()
    adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def with_deadlines(session: requests.Session) -> requests.Session:
    """``session`` with deadline-aware adapters mounted, unless it has them (a session a caller built itself)."""
    for prefix in ("http://", "https://"):
        adapter = session.adapters.get(prefix)
        if not isinstance(adapter, DeadlineAdapter):
            size = getattr(adapter, "_pool_maxsize", DEFAULT_POOLSIZE)
            session.mount(prefix, DeadlineAdapter(pool_connections=4, pool_maxsize=size))
    return session


@dataclass(slots=True)
class Endpoint:
    """A remote system as the connectors see it: where, how long to wait, and what protects it."""

    system: str
    session: requests.Session
    base_url: str = ""
    timeouts: Timeouts = field(default_factory=Timeouts)
    breaker: CircuitBreaker | None = None
    limiter: RateLimiter | None = None
    recorder: Recorder = field(default_factory=NullRecorder)
    table: ErrorTable = DEFAULT_TABLE
    clock: Clock = vn_now
    secrets: Callable[[], Iterable[str]] = lambda: ()
    bounds: Bounds = DEFAULT_BOUNDS
    redirect_hosts: frozenset[str] = frozenset()  # hosts besides the call's own a redirect may lead to
    cert: str | tuple[str, str] | None = None  # the client certificate (and key) for mutual TLS
    verify: bool | str = True  # the CA bundle the server's certificate is checked against (True: the system's)

    def __post_init__(self) -> None:
        with_deadlines(self.session)

    def guard(self) -> None:
        """Before a call: fail fast when the circuit is open, then wait for the rate limit (a call refused there
        leaves the probe, if it was one, to the next call)."""
        if self.breaker is not None:
            self.breaker.before(self.system)
        if self.limiter is not None:
            try:
                self.limiter.acquire(self.system)
            except BaseException:
                if self.breaker is not None:
                    self.breaker.abandon(self.system)
                raise

    def outcome(self, error: BaseException | None) -> None:
        """After a call: only an unwell endpoint (unreachable, 5xx, timeout) counts against the circuit; a call the
        circuit refused never went out and counts for nothing; any other outcome shows the endpoint answering."""
        if self.breaker is None or isinstance(error, CircuitOpen):
            return
        if isinstance(error, RemoteUnavailable | RemoteTimeout):
            self.breaker.failure(self.system)
        else:
            self.breaker.success(self.system)

    def send(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        redacted_request: str | None = None,
        redact_response: Callable[[requests.Response], str | None] | None = None,
    ) -> requests.Response:
        """One guarded HTTP call that returns the response whatever its status, or raises a hub error.

        The exchange is recorded as it went over the wire; a call that carries credentials in its bodies (a login,
        a token request) gives ``redacted_request``/``redact_response`` to record instead.
        """
        self.guard()
        started_at = self.clock()
        start = time.perf_counter()
        try:
            response = self.fetch(operation, method, url, json=json, data=data, headers=headers)
        except HubError as error:
            self.outcome(error)
            sent = redacted_request if redacted_request is not None else _body(json, data)
            self.record(operation, url, started_at, start, sent, None, None, error.message)
            raise
        except BaseException:  # not the endpoint's doing (a bug, an interrupt): a probe it was goes to the next call
            if self.breaker is not None:
                self.breaker.abandon(self.system)
            raise
        resolution = self.table.http_status(response.status_code)
        failed = resolution in (Resolution.RETRY, Resolution.TIMEOUT)
        self.outcome(RemoteUnavailable("") if failed else None)
        sent = redacted_request if redacted_request is not None else response.request.body
        answer = redact_response(response) if redact_response else response.content
        self.record(
            operation, url, started_at, start, sent, answer, response.status_code, None, kept_headers(response.headers)
        )
        return response

    def fetch(self, operation: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange within :attr:`bounds`: the whole answer read (at most ``max_answer_bytes``) before the
        deadline, or a hub error; the one place where ``requests`` fails."""
        hosts = {urlsplit(url).hostname or "", *(host.lower() for host in self.redirect_hosts)}
        with deadline(self.bounds.deadline) as armed:
            try:
                response = self.session.request(
                    method,
                    url,
                    timeout=self.timeouts.pair,
                    stream=True,
                    hooks={"response": _redirects_only_to(hosts)},
                    cert=self.cert,
                    verify=self.verify,
                    **kwargs,
                )
                try:
                    _read_within(response, self.bounds.max_answer_bytes)
                finally:
                    response.close()
            except _ForeignRedirect as exc:
                raise RedirectRefused(
                    f"{self.system} chuyển hướng {operation} sang máy chủ {exc.host} không có trong cấu hình; "
                    f"không gửi gì sang đó, thêm máy chủ vào options.redirect_hosts nếu đúng là của hệ thống "
                    f"({self.system}.{operation} redirected to unlisted host {exc.host}: refused, nothing sent)",
                    status_code=exc.status,
                    location_host=exc.host,
                    target=self.system,
                ) from None
            except _TooLarge as exc:
                raise self._bounded(Resolution.TOO_LARGE, operation, exc.seen) from None
            except requests.RequestException as exc:
                if armed.expired:
                    raise self._bounded(Resolution.DEADLINE, operation, None) from exc
                raise from_transport(exc, system=self.system, operation=operation) from exc
            if armed.expired:  # the cut-off read ended like a complete answer without a length: it is not one
                raise self._bounded(Resolution.DEADLINE, operation, None)
        return response

    def _bounded(self, resolution: Resolution, operation: str, seen: int | None) -> HubError:
        if resolution is Resolution.TOO_LARGE:
            cap, size = self.bounds.max_answer_bytes, seen or self.bounds.max_answer_bytes
            said = f"đã đọc {size} byte, giới hạn {cap} byte (read {size} bytes, the cap is {cap})"
        else:
            said = f"quá {self.bounds.deadline:g} giây (over {self.bounds.deadline:g} s)"
        return to_error(Verdict(resolution, remote_message=said), system=self.system, operation=operation)

    def record(
        self,
        operation: str,
        url: str,
        started_at: datetime,
        start: float,
        request: str | bytes | None,
        response: str | bytes | None,
        status_code: int | None,
        error: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(self.recorder, NullRecorder):
            return  # nothing keeps it: nothing to decode or scrub
        secrets = list(self.secrets())
        self.recorder.record(
            Exchange(
                system=self.system,
                operation=operation,
                endpoint=scrub(url, secrets),
                started_at=started_at,
                duration_ms=(time.perf_counter() - start) * 1000,
                request=wire_text(request, secrets) or "",
                response=wire_text(response, secrets),
                status_code=status_code,
                error=scrub(error, secrets) if error is not None else None,
                headers=headers or {},
            )
        )


class _ForeignRedirect(Exception):
    def __init__(self, status: int, host: str) -> None:
        super().__init__(status, host)
        self.status = status
        self.host = host


def _redirects_only_to(hosts: set[str]) -> Callable[..., requests.Response]:
    """A response hook that stops ``requests`` before it follows a redirect to a host not in ``hosts``: it runs on
    every answer of the chain, before the next request is prepared, so nothing is sent to that host."""

    def check(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.is_redirect:
            host = urlsplit(urljoin(response.url, response.headers["location"])).hostname or ""
            if host not in hosts:
                response.close()
                raise _ForeignRedirect(response.status_code, host)
        return response

    return check


class _TooLarge(Exception):
    def __init__(self, seen: int) -> None:
        super().__init__(seen)
        self.seen = seen


CHUNK = 64 * 1024


def _read_within(response: requests.Response, cap: int) -> None:
    """Read a streamed answer into ``response.content``, stopping as soon as it passes ``cap`` bytes: memory grows
    by at most the cap and one chunk, however large the answer claims or turns out to be."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _TooLarge(int(declared))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > cap:
            raise _TooLarge(size)
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what requests itself does when it reads a body


def _body(json_body: Any, data: bytes | None) -> str | bytes | None:
    """A request's body when the call failed before ``requests`` prepared it."""
    return _json.dumps(json_body, ensure_ascii=False) if json_body is not None else data
