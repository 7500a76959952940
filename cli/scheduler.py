"""``dvc-hub scheduler``: run the clock that asks the hub for every unit's poll and the daily jobs, with the hub's
workers in the same process when the broker is the embedded one.

The schedules decide *when* and only enqueue; this entry point wires them to what they may not import themselves:
the system kinds (which systems are sources) and the workers.
"""

from __future__ import annotations

import fnmatch
import logging
import signal
from contextlib import ExitStack
from dataclasses import replace
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from foundation.settings import get_settings
from foundation.topology import System, configured
from hub import context
from hub.store.db import Database
from hub.worker import embedded_workers
from reports.scheduled import ReconcileOptions
from schedules.claims import Claims, DatabaseClaims, RedisClaims
from schedules.plan import JobKind, plan
from schedules.runner import HubRunner
from schedules.scheduler import Scheduler
from schedules.timing import Every
from systems import registry
from systems.registry import kind_of

console = Console()


def _is_source(system: System) -> bool:
    return kind_of(system).is_source


def scheduler(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Chỉ chạy các công việc có mã khớp mẫu này (ví dụ --only 'poll:*'); lặp lại được."),
    ] = None,
    poll_every: Annotated[
        int | None,
        typer.Option(
            "--poll-every",
            min=1,
            help="Lấy thay đổi từ một cửa (poll) của mọi đơn vị sau chừng này giây, thay cho topology.",
        ),
    ] = None,
    claims: Annotated[
        str, typer.Option(help="Where ticks are claimed: auto (Redis when the broker is Redis), redis, database.")
    ] = "auto",
    workers: Annotated[
        bool | None,
        typer.Option(
            "--workers/--no-workers",
            help="Run the hub's workers in this process (default: yes with the embedded broker, no with Redis).",
        ),
    ] = None,
) -> None:
    """Kích hoạt việc lấy thay đổi của từng đơn vị và các công việc hằng ngày đúng giờ (scheduler); chạy được
    nhiều bản cùng lúc."""
    settings = get_settings()
    # APScheduler logs every execution at INFO; the scheduler's own schedule.ran/failed lines say more, once per tick
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    db = Database(settings.database_url)
    topology = configured(settings)
    registry.use(topology)  # the deployment's own system kinds
    ReconcileOptions.of(topology)  # a wrong option stops the scheduler now, not each night's reconciliation
    specs = plan(topology, is_source=_is_source)
    if poll_every is not None:
        specs = [replace(s, schedule=Every(poll_every)) if s.kind is JobKind.POLL else s for s in specs]
    if only:
        specs = [s for s in specs if any(fnmatch.fnmatchcase(s.job_id, pattern) for pattern in only)]
    if claims not in {"auto", "redis", "database"}:
        raise typer.BadParameter("claims must be auto, redis or database", param_hint="--claims")
    redis_url = settings.shared_redis_url
    use_redis = redis_url is not None if claims == "auto" else claims == "redis"
    if use_redis and redis_url is None:
        raise typer.BadParameter("no Redis configured (DVC_HUB_REDIS_URL)", param_hint="--claims")
    tick_claims: Claims = RedisClaims.from_url(redis_url) if redis_url and use_redis else DatabaseClaims(db)
    runner = HubRunner(db, tick_claims, topology, is_source=_is_source)
    clock = Scheduler(db, specs, tick_claims, runner)
    embedded = (not settings.external_broker) if workers is None else workers
    console.print(
        f"Bộ lập lịch {clock.owner}: {len(specs)} tác vụ, khóa lượt ở {'Redis' if use_redis else 'cơ sở dữ liệu'} "
        f"({len(specs)} jobs, tick claims in {'Redis' if use_redis else 'the database'}"
        f"{', workers in this process' if embedded else ''})."
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        clock.shutdown(wait=False)

    with ExitStack() as stack:
        if embedded:
            ctx = context.HubContext.from_settings(settings)
            context.install(ctx)
            stack.enter_context(embedded_workers(ctx))
        signal.signal(signal.SIGTERM, stop)
        try:
            clock.start(blocking=True)
        except KeyboardInterrupt:
            clock.shutdown(wait=False)
