"""The monthly workbook a provincial office files: one sheet per report, Vietnamese headers, formatted for print.

Sheets: "Tổng hợp" (province summary), "Chỉ số" (indicators per unit and level), "Hồ sơ trễ hạn" (the register),
"Xin lỗi - gia hạn" (every extension), "Đồng bộ DVCQG" (portal sync coverage per unit), and when given the
Decision 766 points, "Điểm QĐ 766" (per group, total, rank and twelve months). Every row goes through
:func:`_append`, which keeps text that starts like a formula (a procedure name, an apology reason) text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from foundation.text import looks_like_formula
from reports.labels import EXTENSION_COLUMNS, INDICATOR_COLUMNS, LEVELS, REGISTER_COLUMNS
from reports.periods import Period
from reports.scores import GROUPS, NOT_ENOUGH_DATA
from reports.service import IndicatorReport, LateReport, ScoreReport

SHEETS = ("Tổng hợp", "Chỉ số", "Hồ sơ trễ hạn", "Xin lỗi - gia hạn", "Đồng bộ DVCQG")
SCORE_SHEET = "Điểm QĐ 766"
SYNC_FIELDS = ("portal_expected", "portal_delivered", "portal_current", "portal_stale", "sync_coverage",
               "portal_max_lag_hours")  # fmt: skip

_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_HEADER_FONT = Font(name="Times New Roman", bold=True, color="FFFFFF", size=11)
_BODY_FONT = Font(name="Times New Roman", size=11)
_TITLE_FONT = Font(name="Times New Roman", bold=True, size=14)
_BREACH_FILL = PatternFill("solid", fgColor="F8CBAD")
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_DATE = "DD/MM/YYYY"


def write_monthly(
    path: Path,
    *,
    province: str,
    period: Period,
    indicators: IndicatorReport,
    late: LateReport,
    now: datetime,
    scores: ScoreReport | None = None,
) -> Path:
    """Write the workbook for ``period`` to ``path`` and return it."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook always has one sheet
    summary.title = SHEETS[0]
    _summary(summary, province, period, indicators, late, now)
    _indicators(book.create_sheet(SHEETS[1]), province, period, indicators)
    _register(book.create_sheet(SHEETS[2]), province, period, late)
    _extensions(book.create_sheet(SHEETS[3]), province, period, late)
    _sync(book.create_sheet(SHEETS[4]), province, period, indicators)
    if scores is not None:
        _scores(book.create_sheet(SCORE_SHEET), province, period, scores)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _title(sheet: Worksheet, text: str, province: str, period: Period, stamp: str, width: int) -> int:
    """The two title rows every sheet starts with, the second with the figures' "as of" stamp; returns the header
    row's number."""
    _append(sheet, [f"{text} — {province}"])
    _append(sheet, [f"Kỳ báo cáo: {period.label} ({period.start:%d/%m/%Y} – {period.end:%d/%m/%Y}), số liệu {stamp}"])
    sheet["A1"].font = _TITLE_FONT
    sheet["A2"].font = Font(name="Times New Roman", italic=True, size=11)
    for row in (1, 2):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=max(width, 1))
    sheet.append([])
    return 4


def _table(sheet: Worksheet, header_row: int, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    _append(sheet, headers)
    for cell in sheet[header_row]:
        cell.fill, cell.font, cell.border = _HEADER_FILL, _HEADER_FONT, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[header_row].height = 45
    for values in rows:
        _append(sheet, values)
        for cell in sheet[sheet.max_row]:
            cell.font, cell.border = _BODY_FONT, _BORDER
            if isinstance(cell.value, date):  # datetimes are dates too
                cell.number_format = _DATE
    sheet.freeze_panes = f"B{header_row + 1}"
    for index, header in enumerate(headers, start=1):
        longest = max([len(str(header)) // 2] + [len(str(r[index - 1] or "")) for r in rows] + [8])
        sheet.column_dimensions[get_column_letter(index)].width = min(longest + 2, 45)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.print_title_rows = f"{header_row}:{header_row}"


def _append(sheet: Worksheet, values: Sequence[Any]) -> None:
    """One row, where text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is
    stored as text and shown as typed with an apostrophe, so that editing the cell does not turn it into one."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        keep_text(cell)


def keep_text(cell: Any) -> None:
    """Store a text that a spreadsheet would run as a formula as text, shown as typed (every writer of a cell of
    text from a dossier goes through here)."""
    if looks_like_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def _scope_name(scope: str, key: str, name: str, level: Any) -> str:
    if scope == "all":
        return "Toàn tỉnh"
    if scope == "level":
        return LEVELS.get(level, key)
    return f"{name} ({key})"


def _summary(
    sheet: Worksheet, province: str, period: Period, indicators: IndicatorReport, late: LateReport, now: datetime
) -> None:
    header = _title(sheet, "Báo cáo tình hình giải quyết TTHC", province, period, indicators.as_of_text, 3)
    total = next((r for r in indicators.rows if r.scope == "all"), None)
    before = next((r for r in indicators.previous if r.scope == "all"), None)
    rows: list[list[Any]] = []
    for field, label in INDICATOR_COLUMNS:
        rows.append([label, getattr(total, field) if total else None, getattr(before, field) if before else None])
    rows.append(["Hồ sơ trễ hạn", len(late.rows), None])
    rows.append(["Trễ hạn chưa xin lỗi", sum(r.late_without_apology for r in late.rows), None])
    rows.append(["Xin lỗi sau thời hạn", sum(r.apology_after_deadline for r in late.rows), None])
    rows.append(["Lập lúc", now.replace(tzinfo=None), None])
    _table(sheet, header, ["Chỉ tiêu", f"Kỳ {indicators.period}", f"Kỳ trước {indicators.previous_period}"], rows)
    sheet.cell(row=sheet.max_row, column=2).number_format = "DD/MM/YYYY HH:MM"


def _indicators(sheet: Worksheet, province: str, period: Period, report: IndicatorReport) -> None:
    headers = ["Đơn vị / cấp", "Cấp", *(label for _, label in INDICATOR_COLUMNS)]
    header = _title(
        sheet,
        "Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg)",
        province,
        period,
        report.as_of_text,
        len(headers),
    )
    rows = [
        [_scope_name(r.scope, r.key, r.name, r.level), LEVELS.get(r.level, ""),
         *(getattr(r, field) for field, _ in INDICATOR_COLUMNS)]
        for r in report.rows
    ]  # fmt: skip
    _table(sheet, header, headers, rows)


def _register(sheet: Worksheet, province: str, period: Period, late: LateReport) -> None:
    header = _title(sheet, "Sổ theo dõi hồ sơ trễ hạn", province, period, late.as_of_text, len(REGISTER_COLUMNS))
    rows = []
    for r in late.rows:
        breach = "Trễ hạn chưa xin lỗi" if r.late_without_apology else ""
        if r.apology_after_deadline:
            breach = "Xin lỗi sau thời hạn"
        cause = ", ".join(part for part in (r.delay_unit, r.delay_step) if part)
        rows.append([
            r.dossier_code, r.receiving_unit, f"{r.unit.name} ({r.unit.code})", r.procedure_name,
            r.first_appointment, r.current_appointment, r.finished_on, r.days_late,
            "Đang giải quyết" if r.open else "Đã giải quyết", cause, "Có" if r.apologised else "Không", breach,
        ])  # fmt: skip
    _table(sheet, header, REGISTER_COLUMNS, rows)
    for index, r in enumerate(late.rows, start=header + 1):
        if r.late_without_apology or r.apology_after_deadline:
            sheet.cell(row=index, column=len(REGISTER_COLUMNS)).fill = _BREACH_FILL


def _extensions(sheet: Worksheet, province: str, period: Period, late: LateReport) -> None:
    header = _title(
        sheet, "Văn bản xin lỗi và hẹn lại ngày trả kết quả", province, period, late.as_of_text, len(EXTENSION_COLUMNS)
    )
    rows = [
        [r.dossier_code, e.previous_appointment, e.new_appointment,
         e.issued_at.replace(tzinfo=None) if e.issued_at else None, e.unit_code, e.step, e.reason,
         "Có" if e.in_time else "Không"]
        for r in late.rows
        for e in r.extensions
    ]  # fmt: skip
    _table(sheet, header, EXTENSION_COLUMNS, rows)


def _sync(sheet: Worksheet, province: str, period: Period, report: IndicatorReport) -> None:
    labels = dict(INDICATOR_COLUMNS)
    headers = ["Đơn vị / cấp", *(labels[f] for f in SYNC_FIELDS)]
    header = _title(sheet, "Đồng bộ Cổng Dịch vụ công quốc gia", province, period, report.as_of_text, len(headers))
    rows = [[_scope_name(r.scope, r.key, r.name, r.level), *(getattr(r, f) for f in SYNC_FIELDS)] for r in report.rows]
    _table(sheet, header, headers, rows)


def _scores(sheet: Worksheet, province: str, period: Period, report: ScoreReport) -> None:
    """Points as numbers (two decimals), "không đủ dữ liệu" as text, the share and the trend as real percentages."""
    months = [f"{label[5:]}/{label[:4]}" for label in report.months]
    headers = ["Đơn vị / cấp", *(name for _, name, _ in GROUPS), "Tổng điểm", "Điểm tối đa có dữ liệu", "Tỷ lệ đạt",
               "Xếp hạng", *(f"Tỷ lệ đạt {m}" for m in months)]  # fmt: skip
    header = _title(sheet, "Điểm Bộ chỉ số QĐ 766/QĐ-TTg", province, period, report.as_of_text, len(headers))
    rows = [
        [_scope_name(r.scope, r.key, r.name, r.level),
         *(NOT_ENOUGH_DATA if g.points is None else g.points for g in r.groups), r.total, r.maximum,
         None if r.share is None else r.share / 100, f"{r.rank}/{r.rank_of}" if r.rank is not None else None,
         *(None if value is None else value / 100 for _, value in r.trend)]
        for r in report.rows
    ]  # fmt: skip
    _table(sheet, header, headers, rows)
    first_share = len(GROUPS) + 4
    for line in sheet.iter_rows(min_row=header + 1, max_row=sheet.max_row):
        for cell in line[1 : first_share - 1]:
            cell.number_format = "0.00"
        for cell in (line[first_share - 1], *line[first_share + 1 :]):
            cell.number_format = "0.0%"
