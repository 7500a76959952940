"""``dvc-hub backfill``: read units' changes over a past range in chunks, in this process, resumably."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from foundation import dates
from foundation.clock import VN_TZ
from hub import context
from hub.backfill import ChunkDone, UnitProgress, run_backfill

console = Console()


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
