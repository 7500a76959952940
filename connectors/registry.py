"""Build connectors from the topology: ``System.kind`` picks the implementation, ``System.options`` tunes it.

The hub calls :func:`build_source` and :func:`build_target` and nothing else of this package's internals. Built
connectors are kept per process (one per system and recorder): they are thread-safe, share one pooled HTTP
session, and keep their login sessions and tokens between messages. Every system has its own circuit breaker,
readable through :func:`breaker_snapshot`; its rate limit is shared through Redis when the broker is Redis.

Options (all optional) — every kind: ``connect_timeout`` (s, default 5; the read bound is ``System.timeout``),
``rate_per_second``, ``burst``, ``rate_max_wait``, ``breaker_failures`` (5), ``breaker_cooldown`` (s, 30),
``accepted_codes``, ``reauth_codes``, ``retry_codes``, ``pool_size`` (8). ``soap``: ``vendor`` (a profile in
``mappings/vendors/``, default ``default``) or ``vendor_file`` (a path), ``wsdl`` (location override),
``password_digest`` (bool), ``page_size``, ``strict``. ``dvcqg-session``: ``auth_path``, ``integration_path``,
``caller_unit``, ``unit_header``. ``dvcqg-url`` (HTTP Basic): ``paths`` (service → path; ``DongBoHoSoMC.update``
for updates, ``TraCuuHoSo`` with ``{mahoso}``). ``dvcqg-lgsp`` (bearer token, then the session adapter behind the
gateway): ``token_path``, ``auth_path``, ``integration_path``, ``scope``, ``token_leeway``, ``caller_unit``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis

from connectors.base import Source, Target
from connectors.errors import DEFAULT_TABLE, ErrorTable
from connectors.fake import FakeConnector
from connectors.http import Endpoint, Timeouts, pooled_session
from connectors.protection import CircuitBreaker, CircuitStatus, LocalRateLimiter, RateLimiter, RedisRateLimiter
from connectors.recording import NullRecorder, Recorder
from connectors.rest import (
    BasicAuth,
    ClientCredentials,
    DvcqgConnector,
    Layered,
    NoAuth,
    ServiceEnvelope,
    SessionLogin,
    UrlPerOperation,
)
from connectors.rest import portal_body as portal_body_check
from connectors.soap import SoapConnector
from hub.errors import ConfigurationError
from hub.settings import Credentials, Settings, credentials, get_settings
from hub.topology import ConnectorKind, System
from mappings.vendors import load_profile, profile

DEFAULT_URL_PATHS = {
    "DongBoHoSoMC": "/hoso/create",
    "DongBoHoSoMC.update": "/hoso/update",
    "CapNhatTienDoHoSoMC": "/hoso/progress",
    "TraCuuHoSo": "/hoso/{mahoso}",
}
# The portal's error codes (simulators/contracts/README.md): 11 = session invalid or expired, 99 = system error
# inside an HTTP 200. Unconfirmed against the real portal, hence overridable per system.
PORTAL_TABLE = ErrorTable(reauth_codes=frozenset({"11"}), retry_codes=frozenset({"99"}))

_lock = threading.Lock()
_built: dict[tuple[str, int], Any] = {}
_fakes: dict[str, FakeConnector] = {}
_breakers: dict[str, CircuitBreaker] = {}
_sessions: dict[int, Any] = {}


def build_source(system: System, settings: Settings | None = None, *, recorder: Recorder | None = None) -> Source:
    """The connector that reads dossiers from ``system`` (a one-stop-shop: ``soap``, or ``fake``)."""
    if system.kind not in (ConnectorKind.SOAP, ConnectorKind.FAKE):
        raise ConfigurationError(
            f"Hệ thống {system.name} ({system.kind}) không phải nguồn hồ sơ / {system.name} cannot be a source"
        )
    built: Source = _build(system, settings, recorder)
    return built


def build_target(system: System, settings: Settings | None = None, *, recorder: Recorder | None = None) -> Target:
    """The connector that pushes dossiers and progress to ``system`` (any kind)."""
    built: Target = _build(system, settings, recorder)
    return built


def build_portal(
    system: System, settings: Settings | None = None, *, recorder: Recorder | None = None
) -> DvcqgConnector:
    """The national portal's connector with its catalogue calls (``procedure``, ``procedures``)."""
    built = _build(system, settings, recorder)
    if not isinstance(built, DvcqgConnector):
        raise ConfigurationError(f"Hệ thống {system.name} không phải Cổng DVCQG / {system.name} is not the portal")
    return built


def fake_connector(name: str) -> FakeConnector:
    """The process's in-memory connector for a ``fake`` system (tests seed it and inspect what was pushed)."""
    with _lock:
        return _fakes.setdefault(name, FakeConnector(name))


def breaker_snapshot() -> list[CircuitStatus]:
    """Every system's circuits in this process: state, consecutive failures, seconds until the next probe."""
    with _lock:
        breakers = list(_breakers.values())
    return [status for breaker in breakers for status in breaker.snapshot()]


def reset() -> None:
    """Forget every built connector, fake, breaker and session (tests; a reloaded topology)."""
    with _lock:
        for session in _sessions.values():
            session.close()
        _built.clear()
        _fakes.clear()
        _breakers.clear()
        _sessions.clear()


def _build(system: System, settings: Settings | None, recorder: Recorder | None) -> Any:
    if system.kind is ConnectorKind.FAKE:
        return fake_connector(system.name)
    recorder = recorder or _NULL
    key = (system.model_dump_json(), id(recorder))
    with _lock:
        found = _built.get(key)
    if found is not None:
        return found
    settings = settings or get_settings()
    connector = _BUILDERS[system.kind](system, settings, _endpoint(system, settings, recorder))
    with _lock:
        return _built.setdefault(key, connector)


_NULL = NullRecorder()


def _endpoint(system: System, settings: Settings, recorder: Recorder) -> Endpoint:
    options = system.options
    table = (DEFAULT_TABLE if system.kind is ConnectorKind.SOAP else PORTAL_TABLE).with_options(options)
    if system.kind is ConnectorKind.DVCQG_URL and "accepted_codes" not in options:
        # The URL-per-operation portal was seen answering "3" and "-3" for accepted records.
        table = replace(table, accepted_codes=frozenset({"0", "00", "3", "-3"}))
    pool_size = int(options.get("pool_size", 8))
    with _lock:
        session = _sessions.setdefault(pool_size, pooled_session(pool_size))
        breaker = _breakers.setdefault(
            system.name,
            CircuitBreaker(
                failure_threshold=int(options.get("breaker_failures", 5)),
                cooldown=float(options.get("breaker_cooldown", 30.0)),
            ),
        )
    return Endpoint(
        system=system.name,
        session=session,
        base_url=system.base_url.rstrip("/"),
        timeouts=Timeouts(connect=float(options.get("connect_timeout", 5.0)), read=system.timeout),
        breaker=breaker,
        limiter=_limiter(system, settings),
        recorder=recorder,
        table=table,
    )


def _limiter(system: System, settings: Settings) -> RateLimiter | None:
    options = system.options
    if "rate_per_second" not in options:
        return None
    rate = float(options["rate_per_second"])
    burst = int(options.get("burst", 1))
    max_wait = float(options.get("rate_max_wait", 30.0))
    redis_url = options.get("redis_url") or (settings.broker_url if settings.uses_redis else None)
    if redis_url:
        return RedisRateLimiter(redis.Redis.from_url(str(redis_url)), rate, burst=burst, max_wait=max_wait)
    return LocalRateLimiter(rate, burst=burst, max_wait=max_wait)


def _credentials(system: System, settings: Settings) -> Credentials:
    if system.credentials is None:
        raise ConfigurationError(f"Hệ thống {system.name} chưa khai báo credentials / {system.name} has no credentials")
    return credentials(system.credentials, settings)


def _soap(system: System, settings: Settings, endpoint: Endpoint) -> SoapConnector:
    options = system.options
    vendor = (
        load_profile(Path(options["vendor_file"]))
        if "vendor_file" in options
        else profile(options.get("vendor", "default"))
    )
    return SoapConnector(
        endpoint,
        vendor,
        _credentials(system, settings),
        wsdl=options.get("wsdl"),
        use_digest=bool(options.get("password_digest", False)),
        page_size=int(options.get("page_size", system.batch_size if system.batch_size > 1 else 100)),
        strict=bool(options.get("strict", True)),
    )


def _session(system: System, settings: Settings, endpoint: Endpoint) -> DvcqgConnector:
    options = system.options
    body_check = portal_body_check(endpoint.table)
    caller = options.get("caller_unit")
    auth = SessionLogin(
        endpoint.base_url + options.get("auth_path", "/auth"),
        _credentials(system, settings),
        caller_unit=caller,
        unit_header=options.get("unit_header", "dstcode"),
        body_check=body_check,
        table=endpoint.table,
    )
    routing = ServiceEnvelope(endpoint.base_url + options.get("integration_path", "/integration"))
    return DvcqgConnector(
        endpoint,
        auth,
        routing,
        body_check=body_check,
        batch_size=system.batch_size,
        caller_unit=caller,
        unit_header=options.get("unit_header", "dstcode"),
    )


def _url(system: System, settings: Settings, endpoint: Endpoint) -> DvcqgConnector:
    options = system.options
    paths = {**DEFAULT_URL_PATHS, **options.get("paths", {})}
    auth = BasicAuth(_credentials(system, settings)) if system.credentials else NoAuth()
    return DvcqgConnector(
        endpoint,
        auth,
        UrlPerOperation(endpoint.base_url, paths),
        batch_size=system.batch_size,
        caller_unit=options.get("caller_unit"),
    )


def _lgsp(system: System, settings: Settings, endpoint: Endpoint) -> DvcqgConnector:
    options = system.options
    creds = _credentials(system, settings)
    gateway = ClientCredentials(
        endpoint.base_url + options.get("token_path", "/token"),
        creds,
        leeway=float(options.get("token_leeway", 30.0)),
        scope=options.get("scope"),
        table=endpoint.table,
    )
    # Behind the gateway sits the portal's session adapter: a bearer token to pass, then the portal's session.
    portal = SessionLogin(
        endpoint.base_url + options.get("auth_path", "/dvcqg/auth"),
        creds,
        caller_unit=options.get("caller_unit"),
        body_check=portal_body_check(endpoint.table),
        table=endpoint.table,
    )
    routing = ServiceEnvelope(endpoint.base_url + options.get("integration_path", "/dvcqg/integration"))
    return DvcqgConnector(
        endpoint,
        Layered(gateway, portal),
        routing,
        batch_size=system.batch_size,
        caller_unit=options.get("caller_unit"),
    )


_BUILDERS: dict[ConnectorKind, Callable[[System, Settings, Endpoint], Any]] = {
    ConnectorKind.SOAP: _soap,
    ConnectorKind.DVCQG_SESSION: _session,
    ConnectorKind.DVCQG_URL: _url,
    ConnectorKind.DVCQG_LGSP: _lgsp,
}
