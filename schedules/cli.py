"""``dvc-hub jobs``: list the periodic jobs, pause and resume them (the clock is ``cli/scheduler.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from foundation.clock import VN_TZ
from foundation.settings import get_settings
from hub.store.db import Database
from schedules.control import UnknownJob, list_jobs, pause_job, resume_job

console = Console()
errors = Console(stderr=True)

jobs_app = typer.Typer(help="Công việc định kỳ: liệt kê, tạm dừng, tiếp tục (jobs).", no_args_is_help=True)


def _db() -> Database:
    return Database(get_settings().database_url)


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
