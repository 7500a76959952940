"""``dvc-hub worker``, ``dvc-hub replay`` and ``dvc-hub poll``: running the pipeline, replaying what failed, polling
now."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from foundation import dates
from foundation.settings import get_settings
from foundation.topology import configured
from foundation.vocabulary import Vocab, choices, labelled
from hub import replay as replays
from hub.context import HubContext
from hub.store.db import Database
from hub.sync import request_poll
from hub.worker import embedded_workers, run_processes

console = Console()
worker_app = typer.Typer(help="Chạy các tiến trình xử lý (workers).", invoke_without_command=True)
replay_app = typer.Typer(
    help="Chạy lại thông điệp bị dừng chờ xử lý: một thông điệp, hoặc mọi thông điệp khớp bộ lọc (replay).",
    no_args_is_help=True,
)


@worker_app.callback()
def worker(
    processes: Annotated[
        int, typer.Option("--processes", "-p", help="Worker processes (Redis or RabbitMQ broker).")
    ] = 2,
    threads: Annotated[int, typer.Option("--threads", "-t", help="Threads per process.")] = 8,
    queues: Annotated[list[str] | None, typer.Option("--queue", "-Q", help="Only these queues.")] = None,
) -> None:
    """Run Dramatiq workers against the configured broker; SIGTERM shuts them down gracefully."""
    settings = get_settings()
    if settings.external_broker:
        run_processes(processes, threads, queues)
        return
    console.print("Embedded broker: worker threads in this process; Ctrl-C stops them.")
    with embedded_workers(HubContext.from_settings(settings), threads=threads):
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("Stopping…")


def _db() -> Database:
    return Database(get_settings().database_url)


@replay_app.command("message")
def replay_message(
    message_id: int,
    fresh: Annotated[bool, typer.Option(help="Fetch the dossier again from its source instead.")] = False,
    user: Annotated[str, typer.Option(help="Who replays, for the audit log.")] = "cli",
) -> None:
    """Chạy lại một thông điệp; thông điệp mới được liên kết với nó (replay message)."""
    new_id = replays.replay_message(_db(), message_id, mode="fresh" if fresh else "original", user=user)
    console.print(f"Đã gửi lại thông điệp {message_id} thành thông điệp {new_id} (replayed as message {new_id}).")


@replay_app.command("bulk")
def replay_bulk(
    target: Annotated[str | None, typer.Option(help="e.g. dvcqg")] = None,
    unit: Annotated[str | None, typer.Option(help="unit code")] = None,
    procedure: Annotated[str | None, typer.Option(help="local procedure code")] = None,
    error_class: Annotated[
        str | None, typer.Option(help=f"Loại lỗi (error class), ví dụ {labelled(Vocab.ERROR_CLASS, 'mapping_missing')}")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(parser=dates.since, metavar="dd/mm/yyyy", help="tạo từ ngày (giờ Việt Nam; cả yyyy-mm-dd)"),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(parser=dates.until, metavar="dd/mm/yyyy", help="tạo đến hết ngày (giờ Việt Nam; cả yyyy-mm-dd)"),
    ] = None,
    state: Annotated[
        Literal["parked", "held", "retrying"],
        typer.Option(help=f"Thông điệp ở trạng thái nào: {choices(Vocab.STATE, ('parked', 'held', 'retrying'))}."),
    ] = "parked",
    fresh: Annotated[bool, typer.Option(help="Fetch dossiers again from their source.")] = False,
    rate: Annotated[float | None, typer.Option(help="messages per second at most")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    user: Annotated[str, typer.Option(help="Who replays, for the audit log.")] = "cli",
) -> None:
    """Đếm các thông điệp khớp bộ lọc, xác nhận, rồi chạy lại theo lô với thanh tiến độ (bulk replay)."""
    db = _db()
    flt = replays.ReplayFilter(
        since=since,
        until=until,
        target=target,
        unit_code=unit,
        procedure_code=procedure,
        error_class=error_class,
        state=state,
    )
    total = replays.count(db, flt)
    console.print(f"{total} thông điệp khớp bộ lọc (messages match).")
    for cause in replays.causes(db, flt):
        again = "" if cause.again is None else f"; {cause.again} sẽ dừng lại vì thủ tục vẫn chưa có mã quốc gia"
        console.print(f"  {labelled(Vocab.ERROR_CLASS, cause.error_class) or 'không lỗi'}: {cause.count}{again}")
    if dry_run or total == 0:
        return
    if not yes and not typer.confirm(f"Gửi lại {total} thông điệp? (replay {total} messages?)"):
        raise typer.Exit(1)
    job_id = replays.create_job(db, flt, mode="fresh" if fresh else "original", user=user, rate_per_second=rate)
    replays.start_job(db, job_id, user=user)
    _run_with_progress(db, job_id)


@replay_app.command("resume")
def replay_resume(job_id: int, user: str = "cli") -> None:
    """Tiếp tục một lệnh chạy lại đang tạm dừng (hoặc chạy lệnh đã đếm) trong tiến trình này."""
    db = _db()
    replays.start_job(db, job_id, user=user)
    _run_with_progress(db, job_id)


@replay_app.command("pause")
def replay_pause(job_id: int, user: str = "cli") -> None:
    """Tạm dừng một lệnh đang chạy; lệnh dừng sau lô hiện tại và có thể tiếp tục."""
    replays.pause_job(_db(), job_id, user=user)
    console.print(f"Đã tạm dừng lệnh {job_id} (paused).")


@replay_app.command("cancel")
def replay_cancel(job_id: int, user: str = "cli") -> None:
    """Hủy một lệnh; những gì đã chạy lại vẫn giữ nguyên."""
    replays.cancel_job(_db(), job_id, user=user)
    console.print(f"Đã hủy lệnh {job_id} (cancelled).")


@replay_app.command("status")
def replay_status(job_id: int) -> None:
    """Xem tiến độ của một lệnh chạy lại."""
    progress = replays.job_progress(_db(), job_id)
    console.print(progress)


def _run_with_progress(db: Database, job_id: int) -> None:
    info = replays.job_progress(db, job_id)
    columns = (
        TextColumn("[bold]Gửi lại[/bold] #{task.fields[job]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("replay", total=info["total"], job=job_id, completed=info["done"])
        while True:
            info = replays.run_job(db, job_id, max_batches=1)
            bar.update(task, completed=info["done"])
            if info["state"] != "running":
                break
    state = labelled(Vocab.JOB_STATE, info["state"])
    console.print(f"Lệnh {job_id}: {state}, {info['done']}/{info['total']} đã gửi lại (replayed).")


def poll(
    units: Annotated[
        list[str] | None, typer.Argument(help="Unit codes; every active unit with a system if none.")
    ] = None,
) -> None:
    """Lấy thay đổi từ một cửa (poll) của các đơn vị ngay, ngoài lịch: đọc các thay đổi kể từ mốc đã đồng bộ."""
    settings = get_settings()
    topology = configured(settings)
    active = topology.active_units()
    unknown = sorted(set(units or ()) - {u.code for u in active})
    if unknown:
        raise typer.BadParameter(
            f"Không có đơn vị đang hoạt động mã {', '.join(unknown)} trong topology (no such active unit)"
        )
    chosen = [u for u in active if u.system and (not units or u.code in units)]
    unserved = sorted(set(units or ()) - {u.code for u in chosen})
    if unserved:
        raise typer.BadParameter(f"Đơn vị {', '.join(unserved)} không có hệ thống nguồn (no system serves it)")
    db = _db()
    for unit in chosen:
        request_poll(db, str(unit.system), unit.code, reason="manual")
    console.print(f"Đã yêu cầu đồng bộ {len(chosen)} đơn vị (polls requested for {len(chosen)} units).")
    if not settings.external_broker:
        # The embedded broker lives in this process, which ends here: the requests wait in the database until a
        # process that runs workers resends them (its reconciler), or forever if none runs.
        minutes = max(1, round(settings.reconcile_after_seconds / 60))
        console.print(
            f"Broker nhúng: chỉ `dvc-hub worker` hoặc `dvc-hub scheduler` đang chạy trên cùng cơ sở dữ liệu mới xử lý "
            f"các yêu cầu này, trong khoảng {minutes} phút; không có tiến trình nào thì chúng chỉ nằm chờ "
            "(embedded broker: only a running worker or scheduler picks them up)."
        )
