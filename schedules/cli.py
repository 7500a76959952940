"""``dvc-hub scheduler``, ``dvc-hub backfill`` and ``dvc-hub jobs``: run the clock, fill in the past, steer jobs."""

from __future__ import annotations

import fnmatch
import logging
import signal
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from foundation import dates
from foundation.clock import VN_TZ
from foundation.settings import get_settings
from foundation.topology import configured
from hub import context
from hub.store.db import Database
from hub.worker import embedded_workers
from schedules.backfill import ChunkDone, UnitProgress, run_backfill
from schedules.claims import Claims, DatabaseClaims, RedisClaims
from schedules.control import UnknownJob, list_jobs, pause_job, resume_job
from schedules.plan import JobKind, plan
from schedules.runner import HubRunner
from schedules.scheduler import Scheduler
from schedules.timing import Every

console = Console()
errors = Console(stderr=True)

jobs_app = typer.Typer(help="Công việc định kỳ: liệt kê, tạm dừng, tiếp tục (jobs).", no_args_is_help=True)


def _db() -> Database:
    return Database(get_settings().database_url)


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
    db = _db()
    topology = configured(settings)
    specs = plan(topology)
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

    def portal() -> Any:
        return context.current().connectors.target(topology.portal.name)

    # The reports package runs the daily reconciliation; imported here, in the entry point, like the rest.
    from reports.scheduled import DailyReconciliation

    runner = HubRunner(
        db, tick_claims, portal, reconcile=DailyReconciliation(db, topology, settings), topology=topology
    )
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


def backfill(
    unit: Annotated[list[str], typer.Option("--unit", "-u", help="Unit code; repeatable.")],
    start: Annotated[
        str,
        typer.Option("--from", metavar="dd/mm/yyyy", help="Ngày đầu (giờ Việt Nam; cả yyyy-mm-dd) hoặc thời điểm ISO."),
    ],
    end: Annotated[
        str,
        typer.Option("--to", metavar="dd/mm/yyyy", help="Ngày cuối, tính cả ngày đó; hoặc thời điểm ISO (không tính)."),
    ],
    system: Annotated[str | None, typer.Option(help="Source system (default: the one serving each unit).")] = None,
    chunk_hours: Annotated[int, typer.Option("--chunk-hours", min=1, help="Hours read per chunk.")] = 24,
    pace: Annotated[float, typer.Option(min=0, help="Seconds to pause between chunks, on top of rate limits.")] = 0.0,
) -> None:
    """Đọc lại thay đổi của các đơn vị trong một khoảng thời gian đã qua (backfill); chạy lại cùng tham số để
    tiếp tục."""
    range_from, range_to = _instant(start, end_of_day=False), _instant(end, end_of_day=True)
    if range_to <= range_from:
        raise typer.BadParameter("--to must be after --from", param_hint="--to")
    ctx = context.current()
    by_system: dict[str, list[str]] = {}
    for code in unit:
        name = system or _system_of(ctx, code, range_from)
        by_system.setdefault(name, []).append(code)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[changes]} thay đổi (changes)"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, Any] = {}

        def started(p: UnitProgress) -> None:
            tasks[p.unit_code] = bar.add_task(
                f"{p.system}/{p.unit_code}", total=p.chunks_total, completed=p.chunks_done, changes=p.changes
            )

        def advanced(c: ChunkDone) -> None:
            task = tasks[c.unit_code]
            bar.update(task, completed=c.chunks_done, changes=bar.tasks[task].fields["changes"] + c.changes)

        for name, codes in by_system.items():
            run_backfill(
                ctx,
                name,
                codes,
                range_from,
                range_to,
                chunk=timedelta(hours=chunk_hours),
                pace=pace,
                on_start=started,
                on_chunk=advanced,
            )
    console.print("Hoàn tất (backfill complete).")


def _instant(value: str, *, end_of_day: bool) -> datetime:
    """A day means its start in Vietnam (the day after, for an inclusive ``--to``); a bare time is Vietnam time."""
    try:
        return dates.moment(value, end_of_day=end_of_day).astimezone(UTC)
    except dates.DateInputError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to" if end_of_day else "--from") from exc


def _system_of(ctx: Any, code: str, on: datetime) -> str:
    unit = ctx.topology.unit(code, on.astimezone(VN_TZ).date())
    system = ctx.topology.system_for(unit)
    if system is None:
        raise typer.BadParameter(f"Đơn vị {code} không có hệ thống nguồn; dùng --system (unit has no system)")
    return str(system.name)


@jobs_app.command("list")
def jobs_list() -> None:
    """Mọi công việc định kỳ với trạng thái, lần chạy cuối, kết quả và lần chạy tới (jobs list)."""
    table = Table(
        Column("job", no_wrap=True),  # ids are copied into pause and resume: keep them whole
        "trạng thái (state)",
        "lần chạy cuối (last run)",
        "kết quả (outcome)",
        "lần tới (next run)",
    )
    for job in list_jobs(_db()):
        table.add_row(
            job.job_id,
            "[yellow]tạm dừng (paused)[/yellow]" if job.paused else "chạy (active)",
            _when(job.last_run_at),
            job.last_outcome or "",
            _when(job.next_run_at),
        )
    console.print(table)


@jobs_app.command("pause")
def jobs_pause(job_id: str, user: Annotated[str, typer.Option(help="Who pauses, for the audit log.")] = "cli") -> None:
    """Pause a job in every scheduler from its next tick."""
    try:
        pause_job(_db(), job_id, user)
    except UnknownJob as exc:
        errors.print(str(exc))
        raise typer.Exit(1) from exc
    console.print(f"Đã tạm dừng {job_id} (paused).")


@jobs_app.command("resume")
def jobs_resume(
    job_id: str, user: Annotated[str, typer.Option(help="Who resumes, for the audit log.")] = "cli"
) -> None:
    """Tiếp tục một công việc đang tạm dừng; việc lấy thay đổi sẽ bắt kịp từ mốc đã đồng bộ ở lần chạy kế tiếp."""
    try:
        resume_job(_db(), job_id, user)
    except UnknownJob as exc:
        errors.print(str(exc))
        raise typer.Exit(1) from exc
    console.print(f"Đã tiếp tục {job_id} (resumed).")


def _when(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S") if value else "—"
