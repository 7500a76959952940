"""The ``dvc-hub report`` commands: the late register, the indicators and the monthly workbook, from the store.

They call the same :class:`reports.service.Reports` functions as the console, so ``--json`` prints exactly what the
console's JSON API returns for the same period.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from foundation import dates
from foundation.clock import VN_TZ, vietnam_now
from foundation.settings import get_settings
from foundation.topology import load
from hub import replay
from hub.store.db import Database
from reports.apology import render
from reports.labels import LEVELS, number, percent, share
from reports.official import write_official
from reports.periods import Grain, Period, parse_period
from reports.reconciliation import RunOut, connected, repair, runs
from reports.rules import load_rules
from reports.scores import GROUPS
from reports.service import IndicatorReport, LateFilter, LateReport, Reports, ScoreReport
from reports.workbook import write_monthly

app = typer.Typer(help="Báo cáo: hồ sơ trễ hạn và xin lỗi, chỉ số Quyết định 766, sổ Excel hằng tháng (report).")
console = Console()
errors = Console(stderr=True)

PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period", help="Một ngày (05/10/2023), tháng (10/2023), quý (2023-Q4) hay năm (2023); tháng này nếu bỏ trống."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (what GET /api/v1/reports/... returns).")]


def reports() -> Reports:
    settings = get_settings()
    return Reports(Database(settings.database_url), load(settings.topology_file), load_rules())


def period_or_month(text: str | None, source: Reports, now: datetime) -> Period:
    if text is None:
        return source.current_period(now)
    try:
        return parse_period(_iso(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc


def _iso(text: str) -> str:
    """A day or a month written the Vietnamese way (05/10/2023, 10/2023) in the ISO form periods are parsed from."""
    value = text.strip()
    if value.count("/") == 2:
        return dates.day(value).isoformat()
    if month := re.fullmatch(r"(\d{1,2})/(\d{4})", value):
        return f"{month[2]}-{int(month[1]):02d}"
    return value


@app.command("late")
def late(
    period: PeriodOption = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit (or the units under it).")] = None,
    still_open: Annotated[bool | None, typer.Option("--open/--finished", help="Only open, or only finished.")] = None,
    breaches: Annotated[bool, typer.Option(help="Only late without apology or apologised too late.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The late-dossier register: first and current appointment, days late, apologies, where the delay was made."""
    now, source = vietnam_now(), reports()
    report = source.late(period_or_month(period, source, now), now, LateFilter(unit, still_open, None, breaches))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print_late(report)


@app.command("indicators")
def indicators(period: PeriodOption = None, as_json: JsonOption = False) -> None:
    """Các chỉ số Quyết định 766 theo đơn vị, theo cấp và toàn tỉnh, so với kỳ trước (indicators)."""
    now, source = vietnam_now(), reports()
    report = source.indicators(period_or_month(period, source, now), now)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print_indicators(report)


@app.command("scores")
def scores(period: PeriodOption = None, as_json: JsonOption = False) -> None:
    """Điểm theo Quyết định 766 từng nhóm và tổng cho mỗi đơn vị, mỗi cấp và toàn tỉnh, kèm xếp hạng và xu hướng
    12 tháng (Decision 766 points)."""
    now, source = vietnam_now(), reports()
    report = source.scores(period_or_month(period, source, now), now)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    console.print(scores_table(report))


@app.command("forms")
def official_forms(
    period: Annotated[str, typer.Option("--period", help="Tháng (10/2023), quý (2023-Q4) hay năm (2023).")],
    out: Annotated[Path, typer.Option(help="Where to write the .xlsx workbook.")],
) -> None:
    """Write the official forms (Circular 01/2018/TT-VPCP 06a/06b/06c per level) and the late register, to print."""
    now, source = vietnam_now(), reports()
    span = period_or_month(period, source, now)
    report = source.forms(span, now)
    path = write_official(
        out, topology=source.topology, period=span, forms=report, late=source.late(span, now), now=now
    )
    console.print(f"Đã ghi biểu mẫu {span.label}, số liệu {report.as_of_text}: {path} (official forms written)")


@app.command("apology")
def apology(
    code: Annotated[str, typer.Argument(help="Mã hồ sơ (the dossier's code).")],
    out: Annotated[Path, typer.Option(help="Where to write the .docx letter.")],
) -> None:
    """Write the apology letter (phiếu xin lỗi và hẹn lại ngày trả kết quả) of a late dossier, ready to print."""
    now, source = vietnam_now(), reports()
    found = source.letter(code, now)
    if found is None:
        errors.print(
            f"Hồ sơ {code} không có trong kho hoặc không trễ hạn: không có phiếu xin lỗi (not late or unknown)"
        )
        raise typer.Exit(1)
    render(found, out)
    console.print(f"Đã ghi phiếu xin lỗi hồ sơ {code} ({found.state.label}): {out} (apology letter written)")


@app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option(help="Tháng, ví dụ 10/2023 (hoặc 2023-10).")],
    out: Annotated[Path, typer.Option(help="Where to write the .xlsx workbook.")],
) -> None:
    """Write the month's Excel workbook (one sheet per report, Vietnamese headers)."""
    now, source = vietnam_now(), reports()
    period = period_or_month(month, source, now)
    if period.grain is not Grain.MONTH:
        raise typer.BadParameter("cần một tháng, ví dụ 10/2023 (a month is needed)", param_hint="--month")
    late = source.late(period, now)
    path = write_monthly(
        out,
        province=source.topology.name,
        period=period,
        indicators=source.indicators(period, now),
        late=late,
        now=now,
        scores=source.scores(period, now),
    )
    console.print(f"Đã ghi báo cáo tháng {period.label}, số liệu {late.as_of_text}: {path} (monthly workbook written)")


def _print_late(report: LateReport) -> None:
    table = Table("Mã hồ sơ", "Đơn vị", "Hạn đầu", "Hạn hiện tại", "Kết thúc", "Trễ (ngày)", "Xin lỗi", "Vi phạm",
                  title=f"Hồ sơ trễ hạn {report.period}: {number(len(report.rows))}, {report.as_of_text}")  # fmt: skip
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
    """The indicators as a terminal table (also printed at the end of ``make demo``): the dossiers reconcile across
    a row (carried over + received = solved + in progress), the on-time rate shows what it divides, and the late
    count is the register's."""
    table = Table("Đơn vị / cấp", "Kỳ trước chuyển qua", "Tiếp nhận", "Đã giải quyết", "Đang giải quyết",
                  "Đúng hạn (trước và đúng hạn / có kết quả)", "Đang giải quyết quá hạn", "Trễ hạn", "Trực tuyến",
                  "Chỉ tiêu", "TT trực tuyến", "Số hóa", "Đồng bộ DVCQG",
                  title=f"Chỉ số {report.period}, {report.as_of_text}")  # fmt: skip
    for r in report.rows:
        name = "Toàn tỉnh" if r.scope == "all" else (LEVELS[r.level] if r.scope == "level" else f"{r.name} ({r.key})")
        table.add_row(
            name, number(r.carried_over), number(r.received), number(r.solved), number(r.in_progress),
            share(r.on_time_rate, r.finished_in_time, r.finished), number(r.open_late), number(r.late),
            percent(r.online_rate), percent(r.online_target), percent(r.online_payment_rate),
            percent(r.digitisation_rate), percent(r.sync_coverage),
        )  # fmt: skip
    return table


def scores_table(report: ScoreReport) -> Table:
    """Decision 766 points as a terminal table: each group "points/attainable" or "không đủ dữ liệu", the total,
    the rank and the last twelve months' shares (oldest first)."""
    table = Table("Đơn vị / cấp", *(name for _, name, _ in GROUPS), "Tổng điểm", "Tỷ lệ đạt", "Xếp hạng",
                  f"Xu hướng 12 tháng ({report.months[0]} – {report.months[-1]}, %)",
                  title=f"Điểm QĐ 766/QĐ-TTg {report.period}, {report.as_of_text}")  # fmt: skip
    for r in report.rows:
        name = "Toàn tỉnh" if r.scope == "all" else (LEVELS[r.level] if r.scope == "level" else f"{r.name} ({r.key})")
        total = "–" if r.total is None else f"{r.total:.2f}".replace(".", ",") + f"/{r.maximum:g}"
        rank = f"{r.rank}/{r.rank_of}" if r.rank is not None else ""
        trend = " ".join("·" if value is None else f"{value:.0f}" for _, value in r.trend)
        table.add_row(name, *(g.text for g in r.groups), total, percent(r.share), rank, trend)
    return table


def _print_indicators(report: IndicatorReport) -> None:
    console.print(summary_table(report))


def reconcile(
    unit: Annotated[str, typer.Argument(help="The unit's code.")],
    since: Annotated[
        datetime, typer.Option(parser=dates.since, metavar="dd/mm/yyyy", help="Từ ngày (giờ Việt Nam; cả yyyy-mm-dd).")
    ],
    until: Annotated[
        datetime | None,
        typer.Option(
            parser=dates.until,
            metavar="dd/mm/yyyy",
            help="Đến hết ngày (giờ Việt Nam; cả yyyy-mm-dd); mặc định: bây giờ.",
        ),
    ] = None,
    sample: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of dossiers looked up at the portal.")] = 1.0,
    rate: Annotated[float | None, typer.Option(help="At most this many calls per second to each system.")] = 5.0,
    repair_them: Annotated[
        bool, typer.Option("--repair", help="Turn missing and mismatched dossiers into a replay job and run it.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Đối soát hồ sơ của một cửa từng đơn vị với Cổng DVCQG qua các bộ kết nối (reconcile)."""
    settings = get_settings()
    db = Database(settings.database_url)
    topology = load(settings.topology_file)
    start, end = _vn(since), _vn(until) if until else vietnam_now()
    with connected(db, topology, unit, settings=settings, rate_per_second=rate) as reconciler:
        run = reconciler.run(unit, start, end, sample=sample, user="cli")
    job_id = repair(db, run.id, user="cli", rate_per_second=rate) if repair_them else None
    if job_id is not None:
        replay.start_job(db, job_id, user="cli")
        replay.run_job(db, job_id)
        run = next(r for r in runs(db, unit_code=unit, limit=5) if r.id == run.id)
    if as_json:
        typer.echo(run.model_dump_json(indent=2))
        return
    console.print(run_table(run))
    if job_id is not None:
        console.print(f"Đã tạo và chạy lệnh gửi lại {job_id} (replay job {job_id} created and run)")


def run_table(run: RunOut) -> Table:
    """A reconciliation run as a terminal table."""
    table = Table("Mã hồ sơ", "Khác biệt", "Trạng thái nguồn", "Trạng thái DVCQG",
                  title=f"Đối soát {run.unit_code}: {run.listed} hồ sơ ở nguồn, {run.checked} đã tra cứu; "
                  f"thiếu {run.count('missing')}, lệch {run.count('mismatched')}, cũ {run.count('stale')}, "
                  f"thừa {run.count('extra')}")  # fmt: skip
    for d in run.differences:
        table.add_row(d.dossier_code, KIND_LABELS[d.kind], _or_dash(d.source_status), _or_dash(d.portal_status))
    return table


KIND_LABELS = {"missing": "thiếu trên DVCQG", "mismatched": "lệch trạng thái", "stale": "hub chưa cập nhật",
               "extra": "nguồn không còn"}  # fmt: skip


def _or_dash(value: int | None) -> str:
    return "–" if value is None else str(value)


def _vn(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)
