"""The ``dvc-hub report`` commands: the late register, the indicators and the monthly workbook, from the store.

They call the same :class:`reports.service.Reports` functions as the console, so ``--json`` prints exactly what the
console's JSON API returns for the same period.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from foundation.clock import vietnam_now
from foundation.settings import get_settings
from foundation.topology import load
from hub.store.db import Database
from reports.labels import LEVELS
from reports.periods import Grain, Period, parse_period, period_of
from reports.rules import load_rules
from reports.service import IndicatorReport, LateFilter, LateReport, Reports
from reports.workbook import write_monthly

app = typer.Typer(help="Reports: late dossiers and apologies, Decision 766 indicators, monthly workbook.")
console = Console()
errors = Console(stderr=True)

PeriodOption = Annotated[
    str | None, typer.Option("--period", help="2023-10-05, 2023-10, 2023-Q4 or 2023; this month by default.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (what GET /api/v1/reports/... returns).")]


def reports() -> Reports:
    settings = get_settings()
    return Reports(Database(settings.database_url), load(settings.topology_file), load_rules())


def period_or_month(text: str | None, now: datetime) -> Period:
    if text is None:
        return period_of(Grain.MONTH, now.date())
    try:
        return parse_period(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc


@app.command("late")
def late(
    period: PeriodOption = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit (or the units under it).")] = None,
    still_open: Annotated[bool | None, typer.Option("--open/--finished", help="Only open, or only finished.")] = None,
    breaches: Annotated[bool, typer.Option(help="Only late without apology or apologised too late.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The late-dossier register: first and current appointment, days late, apologies, where the delay was made."""
    now = vietnam_now()
    report = reports().late(period_or_month(period, now), now, LateFilter(unit, still_open, None, breaches))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print_late(report)


@app.command("indicators")
def indicators(period: PeriodOption = None, as_json: JsonOption = False) -> None:
    """The Decision 766 indicators per unit, level and province, beside the period before."""
    now = vietnam_now()
    report = reports().indicators(period_or_month(period, now), now)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print_indicators(report)


@app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option(help="The month, e.g. 2023-10.")],
    out: Annotated[Path, typer.Option(help="Where to write the .xlsx workbook.")],
) -> None:
    """Write the month's Excel workbook (one sheet per report, Vietnamese headers)."""
    now = vietnam_now()
    period = period_or_month(month, now)
    if period.grain is not Grain.MONTH:
        raise typer.BadParameter("cần một tháng, ví dụ 2023-10 (a month is needed)", param_hint="--month")
    source = reports()
    path = write_monthly(
        out,
        province=source.topology.name,
        period=period,
        indicators=source.indicators(period, now),
        late=source.late(period, now),
        now=now,
    )
    console.print(f"Đã ghi báo cáo tháng {period.label}: {path} (monthly workbook written)")


def _print_late(report: LateReport) -> None:
    table = Table("Mã hồ sơ", "Đơn vị", "Hạn đầu", "Hạn hiện tại", "Kết thúc", "Trễ (ngày)", "Xin lỗi", "Vi phạm",
                  title=f"Hồ sơ trễ hạn {report.period} (đến {report.judged_on:%d/%m/%Y})")  # fmt: skip
    for r in report.rows:
        breach = "chưa xin lỗi" if r.late_without_apology else ("xin lỗi muộn" if r.apology_after_deadline else "")
        table.add_row(
            r.dossier_code, r.unit.code, f"{r.first_appointment:%d/%m/%Y}",
            f"{r.current_appointment:%d/%m/%Y}" if r.current_appointment else "",
            f"{r.finished_on:%d/%m/%Y}" if r.finished_on else "đang xử lý", str(r.days_late),
            "có" if r.apologised else "không", breach,
        )  # fmt: skip
    console.print(table)


def summary_table(report: IndicatorReport) -> Table:
    """The indicators as a terminal table (also printed at the end of ``make demo``)."""
    table = Table("Đơn vị / cấp", "Tiếp nhận", "Đúng hạn %", "Trễ", "Trực tuyến %", "Chỉ tiêu %",
                  "TT trực tuyến %", "Số hóa %", "Đồng bộ DVCQG %", title=f"Chỉ số {report.period}")  # fmt: skip
    for r in report.rows:
        name = "Toàn tỉnh" if r.scope == "all" else (LEVELS[r.level] if r.scope == "level" else f"{r.name} ({r.key})")
        table.add_row(
            name, str(r.received), _pct(r.on_time_rate), str(r.finished_late + r.open_late), _pct(r.online_rate),
            _pct(r.online_target), _pct(r.online_payment_rate), _pct(r.digitisation_rate), _pct(r.sync_coverage),
        )  # fmt: skip
    return table


def _print_indicators(report: IndicatorReport) -> None:
    console.print(summary_table(report))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
