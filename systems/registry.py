"""Which package serves which system kind, and the connectors built from them, once per process.

Built-in kinds are listed in :data:`BUILTIN`; a topology adds its own in its ``kinds`` section (kind name → module
path), so a new kind is a package plus configuration. A kind's module exposes ``KINDS``: a mapping from kind name to
:class:`~systems.kind.SystemKind`.

Built connectors are kept per process (one per system and recorder): they are thread-safe, share one pooled HTTP
session, and keep their login sessions and tokens between messages. Every system has its own circuit breaker,
readable through :func:`breaker_snapshot`; its rate limit is shared through Redis when the broker is Redis.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Mapping
from typing import Any

import redis

from connectors.base import Source, Target
from connectors.errors import Bounds
from connectors.http import Endpoint, Timeouts, pooled_session
from connectors.protection import CircuitBreaker, CircuitStatus, LocalRateLimiter, RateLimiter, RedisRateLimiter
from connectors.recording import NullRecorder, Recorder
from foundation.errors import ConfigurationError
from foundation.redaction import declare_personal, personal_keys
from foundation.settings import Settings, get_settings
from foundation.topology import System, Topology
from systems.kind import Options, SystemKind

BUILTIN: Mapping[str, str] = {
    "soap": "systems.motcua",
    "dvcqg-session": "systems.dvcqg",
    "dvcqg-url": "systems.dvcqg",
    "dvcqg-lgsp": "systems.dvcqg",
    "fake": "systems.fake",
    "rest-json": "systems.restjson",
}

_lock = threading.Lock()
_extra: dict[str, str] = {}
_built: dict[tuple[str, int], Any] = {}
_breakers: dict[str, CircuitBreaker] = {}
_sessions: dict[int, Any] = {}
_NULL = NullRecorder()


def register(kinds: Mapping[str, str]) -> None:
    """Make the kinds a topology names (kind → module path) known to this process."""
    with _lock:
        _extra.update(kinds)


def use(topology: Topology) -> None:
    """Register the topology's own kinds."""
    register(topology.spec.kinds)


def kind_of(system: System | str) -> SystemKind:
    """The kind package serving ``system`` (or a kind name); ConfigurationError for an unknown kind."""
    name = system if isinstance(system, str) else system.kind
    module_path = _extra.get(name) or BUILTIN.get(name)
    if module_path is None:
        raise ConfigurationError(f"Không biết loại hệ thống {name!r} (unknown system kind {name!r})")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise ConfigurationError(f"Không nạp được gói {module_path!r} của loại {name!r} ({exc})") from exc
    kinds: Mapping[str, SystemKind] = getattr(module, "KINDS", {})
    if name not in kinds:
        raise ConfigurationError(f"Gói {module_path!r} không khai báo loại {name!r} (no such kind in the package)")
    kind = kinds[name]
    if kind.personal - personal_keys():  # a kind's wire names join the one list the first time it is used
        declare_personal(kind.personal)
    return kind


def check(topology: Topology) -> list[str]:
    """Every system's kind and options problem, each with its path in the topology file."""
    register(topology.spec.kinds)
    problems: list[str] = []
    for i, system in enumerate(topology.spec.systems):
        try:
            kind_of(system).parse_options(system)
        except ConfigurationError as exc:
            problems.append(f"systems[{i}] ({system.name}): {exc.message}")
    return problems


def receives_updates(system: System) -> bool:
    """Whether ``system`` takes a unit copy's updates (liên thông); asked per routed dossier, so remembered."""
    return _receives_updates(system.model_dump_json())


@functools.lru_cache(maxsize=256)
def _receives_updates(system_json: str) -> bool:
    system = System.model_validate_json(system_json)
    return kind_of(system).receives_updates(system)


def without_updates(topology: Topology) -> list[str]:
    """A warning for every unit whose system cannot take liên thông updates: the hub reads its dossiers, but a
    dossier transferred to or from it is never written back there (routing leaves it out)."""
    register(topology.spec.kinds)
    warnings = []
    for unit in topology.units:
        system = topology.system_for(unit)
        if system is not None and not receives_updates(system):
            warnings.append(
                f"units.{unit.code} ({unit.name}): hệ thống {system.name} ({system.kind}) không nhận cập nhật liên "
                f"thông; hồ sơ liên thông sẽ không được ghi về đơn vị này (khai báo operations.update trong hồ sơ nhà "
                f"cung cấp nếu hệ thống có) / {system.name} takes no liên thông updates: none is routed there"
            )
    return warnings


def build_source(system: System, settings: Settings | None = None, *, recorder: Recorder | None = None) -> Source:
    """The connector that reads dossiers from ``system``."""
    if not kind_of(system).is_source:
        raise ConfigurationError(
            f"Hệ thống {system.name} ({system.kind}) không phải nguồn hồ sơ / {system.name} cannot be a source"
        )
    built: Source = _build(system, settings, recorder)
    return built


def build_target(system: System, settings: Settings | None = None, *, recorder: Recorder | None = None) -> Target:
    """The connector that pushes dossiers and progress to ``system``."""
    built: Target = _build(system, settings, recorder)
    return built


def breaker_snapshot() -> list[CircuitStatus]:
    """Every system's circuits in this process: state, consecutive failures, seconds until the next probe."""
    with _lock:
        breakers = list(_breakers.values())
    return [status for breaker in breakers for status in breaker.snapshot()]


def reset() -> None:
    """Forget every built connector, breaker and session (tests; a reloaded topology)."""
    _receives_updates.cache_clear()
    with _lock:
        for session in _sessions.values():
            session.close()
        _built.clear()
        _breakers.clear()
        _sessions.clear()


def _build(system: System, settings: Settings | None, recorder: Recorder | None) -> Any:
    kind = kind_of(system)
    recorder = recorder or _NULL
    key = (system.model_dump_json(), id(recorder))
    with _lock:
        found = _built.get(key)
    if found is not None:
        return found
    settings = settings or get_settings()
    options = kind.parse_options(system)
    connector = kind.build(system, settings, _endpoint(system, kind, options, settings, recorder), options)
    with _lock:
        return _built.setdefault(key, connector)


def _endpoint(system: System, kind: SystemKind, options: Options, settings: Settings, recorder: Recorder) -> Endpoint:
    table = kind.error_table.with_codes(
        accepted=options.accepted_codes, reauth=options.reauth_codes, retry=options.retry_codes
    )
    with _lock:
        session = _sessions.setdefault(options.pool_size, pooled_session(options.pool_size))
        breaker = _breakers.setdefault(
            system.name,
            CircuitBreaker(failure_threshold=options.breaker_failures, cooldown=options.breaker_cooldown),
        )
    return Endpoint(
        system=system.name,
        session=session,
        base_url=system.base_url.rstrip("/"),
        timeouts=Timeouts(connect=options.connect_timeout, read=system.timeout),
        bounds=Bounds(
            deadline=options.deadline,
            max_answer_bytes=options.max_answer_bytes,
            error_text_max=options.error_text_max,
        ),
        breaker=breaker,
        limiter=_limiter(options, settings),
        recorder=recorder,
        table=table,
        redirect_hosts=frozenset(options.redirect_hosts),
        cert=options.tls.requests_cert if options.tls else None,
        verify=options.tls.requests_verify if options.tls else True,
    )


def _limiter(options: Options, settings: Settings) -> RateLimiter | None:
    if options.rate_per_second is None:
        return None
    redis_url = options.redis_url or settings.shared_redis_url
    if redis_url:
        return RedisRateLimiter(
            redis.Redis.from_url(redis_url),
            options.rate_per_second,
            burst=options.burst,
            max_wait=options.rate_max_wait,
        )
    return LocalRateLimiter(options.rate_per_second, burst=options.burst, max_wait=options.rate_max_wait)
