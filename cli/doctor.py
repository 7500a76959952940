"""``dvc-hub doctor``: a deployment checked from the inside, one line per check, so an administrator sees at once
what is wrong: the schema at the newest migration, the broker (and the locks' Redis) reachable, every system's
credentials present and its health operation answering, and this machine's clock agreeing with the servers'."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import pika
import redis
import typer
from rich.console import Console
from sqlalchemy import text

from foundation.clock import utcnow
from foundation.credentials import credentials
from foundation.errors import HubError
from foundation.settings import Settings, get_settings
from foundation.topology import Topology, configured
from hub.store.db import Database
from migrations import schema_status
from systems.registry import build_source, build_target, kind_of, use

DEFAULT_MAX_SKEW_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it holds, and what was seen."""

    name: str
    ok: bool
    detail: str


def run(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow, max_skew: float = DEFAULT_MAX_SKEW_SECONDS
) -> list[Check]:
    """Every check, in the order an administrator would fix them; none stops the others."""
    db = Database(settings.database_url)
    try:
        checks = [_schema(db)]
        redis_url = settings.shared_redis_url
        checks.append(_broker(settings))
        if settings.uses_rabbitmq:
            checks.append(_redis("locks", redis_url))
        try:
            topology = configured(settings)
        except HubError as exc:
            checks.append(Check("topology", False, exc.message))
        else:
            checks += list(_systems(topology, settings))
        checks += list(_clock(db, redis_url, clock, max_skew))
        return checks
    finally:
        db.dispose()


def _schema(db: Database) -> Check:
    try:
        current, heads = schema_status(db.engine)
    except Exception as exc:  # an unreachable database is this check's finding, not a crash
        return Check("database", False, f"không kết nối được (unreachable): {type(exc).__name__}")
    if current == heads:
        return Check("database", True, f"schema at head {', '.join(sorted(heads))}")
    shown = ", ".join(sorted(current)) or "empty"
    return Check("database", False, f"schema at {shown}, head is {', '.join(sorted(heads))}: run `dvc-hub db upgrade`")


def _broker(settings: Settings) -> Check:
    if settings.uses_redis:
        return _redis("broker", settings.broker_url)
    if settings.uses_rabbitmq:
        parameters = pika.URLParameters(settings.broker_url)
        parameters.socket_timeout = parameters.blocked_connection_timeout = PROBE_TIMEOUT_SECONDS
        try:
            pika.BlockingConnection(parameters).close()
        except Exception as exc:  # pika's errors are many; each means "not reachable"
            return Check("broker", False, f"RabbitMQ unreachable: {type(exc).__name__}")
        return Check("broker", True, "RabbitMQ reachable")
    return Check("broker", True, "in-process broker (embedded): workers run inside this process")


def _redis(name: str, url: str | None) -> Check:
    if url is None:
        return Check(name, False, "no Redis configured (DVC_HUB_REDIS_URL)")
    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return Check(name, False, f"Redis unreachable: {type(exc).__name__}")
    finally:
        client.close()
    return Check(name, True, "Redis reachable")


def _systems(topology: Topology, settings: Settings) -> Iterator[Check]:
    use(topology)
    for system in topology.systems.values():
        if system.credentials:
            try:
                credentials(system.credentials, settings)
            except HubError as exc:
                yield Check(f"{system.name}: credentials", False, exc.message)
                continue
            yield Check(f"{system.name}: credentials", True, f"reference {system.credentials!r} resolved")
        build = build_source if kind_of(system).is_source else build_target
        try:
            with build(system, settings) as connector:
                health = connector.health()
        except HubError as exc:
            yield Check(f"{system.name}: health", False, exc.message)
            continue
        detail = f"{health.detail or ('ok' if health.ok else 'failed')} ({health.latency_ms:.0f} ms)"
        yield Check(f"{system.name}: health", health.ok, detail)


def _clock(db: Database, redis_url: str | None, clock: Callable[[], datetime], max_skew: float) -> Iterator[Check]:
    """This machine's clock against the servers': polls' watermarks and retries' timing compare their times."""
    references: list[tuple[str, Callable[[], datetime]]] = []
    if not db.is_sqlite:  # SQLite runs on this machine's own clock
        references.append(("database", lambda: _database_now(db)))
    if redis_url is not None:
        references.append(("redis", lambda: _redis_now(redis_url)))
    for name, now in references:
        try:
            skew = (clock() - now()).total_seconds()
        except Exception as exc:  # an unreachable server was reported above
            yield Check(f"clock vs {name}", False, f"could not read its time: {type(exc).__name__}")
            continue
        ok = abs(skew) <= max_skew
        yield Check(f"clock vs {name}", ok, f"lệch (skew) {skew:+.1f} s, allowed ±{max_skew:g} s")


def _database_now(db: Database) -> datetime:
    with db.engine.connect() as conn:
        value: datetime = conn.execute(text("SELECT now()")).scalar_one()
    return value.astimezone(UTC)


def _redis_now(url: str) -> datetime:
    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        seconds, micros = client.time()
    finally:
        client.close()
    return datetime.fromtimestamp(seconds + micros / 1_000_000, tz=UTC)


console = Console()


def doctor(
    max_skew: Annotated[float, typer.Option(help="Seconds this machine's clock may differ from the servers'.")] = 5.0,
) -> None:
    """Kiểm tra triển khai: lược đồ, hàng đợi, tài khoản và tình trạng từng hệ thống, độ lệch đồng hồ (doctor)."""
    checks = run(get_settings(), max_skew=max_skew)
    for check in checks:
        mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
        console.print(f"{mark} {check.name}: ", end="")
        console.print(check.detail, markup=False, highlight=False)
    failed = [c for c in checks if not c.ok]
    if failed:
        console.print(f"[red]{len(failed)} kiểm tra không đạt ({len(failed)} checks failed)[/red]")
        raise typer.Exit(1)
    console.print(f"[green]Tất cả {len(checks)} kiểm tra đạt (all {len(checks)} checks passed)[/green]")
