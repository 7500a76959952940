"""The official workbook a province files upward: the dossier-processing result forms of Circular 01/2018/TT-VPCP
(forms 06a/06b/06c, one sheet per level) and the register of late dossiers (sổ theo dõi), each with the formal
heading of an administrative document (Decree 30/2020: issuing body and number on the left, the nation's line and
motto, place and date on the right), the title and period ("Tháng 10 năm 2023"), STT, names not codes, bold
subtotals and totals, real number and percentage formats, the signature block, and print settings (A4 landscape,
one page wide, header rows repeated, "Trang 1/3" in the footer).

Nothing personal is on these sheets (no applicant), so viewers and operators get the same workbook; every text from
a dossier goes through :func:`reports.workbook.keep_text`, so a procedure named "=..." stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from foundation.clock import VN_TZ
from foundation.topology import Level, Topology
from reports.forms import FormLine, LevelForm
from reports.labels import LEVELS, committee, place_name
from reports.periods import Grain, Period
from reports.register import LetterState
from reports.service import FormsReport, LateReport
from reports.workbook import keep_text

NATION: Final = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO: Final = "Độc lập - Tự do - Hạnh phúc"
CIRCULAR: Final = "Thông tư số 01/2018/TT-VPCP"
REGISTER_SHEET: Final = "Sổ theo dõi"
COUNT_FORMAT: Final = "#,##0"
SHARE_FORMAT: Final = "0.0%"
DATE_FORMAT: Final = "DD/MM/YYYY"
FOOTER: Final = "Trang &P/&N"
ADDED_COLUMN: Final = (
    "(*) Cột thêm vào biểu: hồ sơ không được tiếp nhận, công dân rút hoặc dừng xử lý; không có cột này "
    "thì số nhận giải quyết không bằng số đã giải quyết cộng số đang giải quyết."
)

# Form columns (1)–(15): STT, name, then the counts of a FormLine and the in-time share.
FORM_FIELDS: Final = ("total", "carried_over", "received_online", "received_other", "solved", "finished_early",
                      "finished_on_time", "finished_late", "dropped", "in_progress", "open_on_time", "open_late",
                      "in_time_share")  # fmt: skip
FORM_WIDTHS: Final = (6, 38, 9, 9, 10, 11, 9, 9, 9, 9, 10, 9, 9, 9, 11)
REGISTER_HEADERS: Final = ("STT", "Mã hồ sơ", "Thủ tục hành chính", "Đơn vị tiếp nhận", "Ngày tiếp nhận",
                           "Hạn trả lần đầu", "Hạn trả hiện tại", "Ngày có kết quả", "Số ngày trễ",
                           "Đơn vị, bước gây trễ", "Phiếu xin lỗi", "Ghi chú")  # fmt: skip
REGISTER_WIDTHS: Final = (6, 26, 30, 20, 11, 11, 11, 11, 8, 30, 24, 16)
LETTER_LABELS: Final = {s: s.label for s in LetterState}

_FONT = "Times New Roman"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_ROMAN = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def write_official(
    path: Path, *, topology: Topology, period: Period, forms: FormsReport, late: LateReport, now: datetime
) -> Path:
    """Write a sheet per level's form and the register to ``path`` and return it."""
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook always has one sheet
    book.remove(first)
    province = _province(topology, period.end)
    for level_form in forms.levels:
        sheet = book.create_sheet(f"Biểu {level_form.form} - {LEVELS[level_form.level]}")
        _form(sheet, level_form.level, level_form.form, level_form, province, period, forms.as_of_text, now)
    _register(book.create_sheet(REGISTER_SHEET), topology, province, period, late, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def period_text(period: Period) -> str:
    """ "Tháng 10 năm 2023", "Quý IV năm 2023", "Năm 2023", "Ngày 05/10/2023"."""
    match period.grain:
        case Grain.MONTH:
            return f"Tháng {period.start.month} năm {period.start.year}"
        case Grain.QUARTER:
            return f"Quý {_roman((period.start.month - 1) // 3 + 1)} năm {period.start.year}"
        case Grain.YEAR:
            return f"Năm {period.start.year}"
        case Grain.DAY:
            return f"Ngày {period.start:%d/%m/%Y}"


def _form(
    sheet: Worksheet,
    level: Level,
    form: str,
    content: LevelForm,
    province: str,
    period: Period,
    stamp: str,
    now: datetime,
) -> None:
    width = len(FORM_WIDTHS)
    title = f"TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH {LEVELS[level].upper()}"
    row = _heading(sheet, width, province, title, period, f"{stamp}; Biểu số {form}/VPCP/KSTT, {CIRCULAR}", now)
    sheet.cell(row=row, column=1, value=f"Đơn vị báo cáo: {committee(province)}").font = _font(italic=True)
    sheet.cell(row=row, column=10, value="Đơn vị nhận báo cáo: Văn phòng Chính phủ").font = _font(italic=True)
    header = row + 2
    _form_header(sheet, header)
    line = header + 4
    _form_line(sheet, line, "", content.total, bold=True)
    line += 1
    for index, unit in enumerate(content.units, start=1):
        _form_line(sheet, line, _roman(index), unit.subtotal, bold=True)
        line += 1
        for number, item in enumerate(unit.lines, start=1):
            _form_line(sheet, line, str(number), item, bold=False)
            line += 1
    note = sheet.cell(row=line, column=2, value=ADDED_COLUMN)
    note.font = _font(italic=True, size=10)
    _signature(sheet, line + 2, width, ("Văn phòng Chính phủ (Cục Kiểm soát TTHC);", "Lưu: VT."))
    _print(sheet, FORM_WIDTHS, f"{header}:{header + 3}", f"Biểu số {form}/VPCP/KSTT")


def _form_header(sheet: Worksheet, top: int) -> None:
    """The form's three header rows, merged as printed, and the row of column numbers (1)–(15)."""
    spans = (
        (top, 1, top + 2, 1, "STT"),
        (top, 2, top + 2, 2, "Đơn vị, lĩnh vực giải quyết"),
        (top, 3, top, 6, "Số hồ sơ nhận giải quyết"),
        (top + 1, 3, top + 2, 3, "Tổng số"),
        (top + 1, 4, top + 1, 6, "Trong đó"),
        (top + 2, 4, top + 2, 4, "Số kỳ trước chuyển qua"),
        (top + 2, 5, top + 2, 5, "Số mới tiếp nhận trực tuyến"),
        (top + 2, 6, top + 2, 6, "Số mới tiếp nhận trực tiếp, dịch vụ bưu chính công ích"),
        (top, 7, top, 14, "Kết quả giải quyết"),
        (top + 1, 7, top + 1, 11, "Số hồ sơ đã giải quyết"),
        (top + 2, 7, top + 2, 7, "Tổng số"),
        (top + 2, 8, top + 2, 8, "Trả trước hạn"),
        (top + 2, 9, top + 2, 9, "Trả đúng thời hạn"),
        (top + 2, 10, top + 2, 10, "Trả quá hạn"),
        (top + 2, 11, top + 2, 11, "Trả lại, rút, dừng xử lý (*)"),
        (top + 1, 12, top + 1, 14, "Số hồ sơ đang giải quyết"),
        (top + 2, 12, top + 2, 12, "Tổng số"),
        (top + 2, 13, top + 2, 13, "Chưa đến hạn"),
        (top + 2, 14, top + 2, 14, "Quá hạn"),
        (top, 15, top + 2, 15, "Tỷ lệ giải quyết trước và đúng hạn"),
    )
    for first_row, first_col, last_row, last_col, text in spans:
        for r in range(first_row, last_row + 1):
            for c in range(first_col, last_col + 1):
                sheet.cell(row=r, column=c).border = _BORDER
        cell = sheet.cell(row=first_row, column=first_col, value=text)
        cell.font, cell.alignment = _font(bold=True, size=11), _CENTER
        if (first_row, first_col) != (last_row, last_col):
            sheet.merge_cells(start_row=first_row, start_column=first_col, end_row=last_row, end_column=last_col)
    for column in range(1, len(FORM_WIDTHS) + 1):
        cell = sheet.cell(row=top + 3, column=column, value=f"({column})")
        cell.font, cell.alignment, cell.border = _font(italic=True, size=10), _CENTER, _BORDER
    sheet.row_dimensions[top + 2].height = 64


def _form_line(sheet: Worksheet, row: int, number: str, line: FormLine, *, bold: bool) -> None:
    values: list[Any] = [number, line.name, *(getattr(line, f) for f in FORM_FIELDS)]
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=value)
        keep_text(cell)
        cell.font, cell.border = _font(bold=bold), _BORDER
        if column == 1:
            cell.alignment = Alignment(horizontal="center")
        elif column == 2:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        else:
            cell.number_format = SHARE_FORMAT if column == len(values) else COUNT_FORMAT


def _register(
    sheet: Worksheet, topology: Topology, province: str, period: Period, late: LateReport, now: datetime
) -> None:
    width = len(REGISTER_HEADERS)
    title = "SỔ THEO DÕI HỒ SƠ TRỄ HẠN VÀ PHIẾU XIN LỖI, HẸN LẠI NGÀY TRẢ KẾT QUẢ"
    header = _heading(sheet, width, province, title, period, late.as_of_text, now) + 1
    for column, text in enumerate(REGISTER_HEADERS, start=1):
        cell = sheet.cell(row=header, column=column, value=text)
        cell.font, cell.alignment, cell.border = _font(bold=True, size=11), _CENTER, _BORDER
    sheet.row_dimensions[header].height = 32
    names = {u.code: u.name for u in topology.units}
    row = header
    for row, item in enumerate(late.rows, start=header + 1):
        delay = ", ".join(p for p in (names.get(item.delay_unit or "", item.delay_unit), item.delay_step) if p)
        note = "Đang giải quyết" if item.open else ""
        values: list[Any] = [
            row - header, item.dossier_code, item.procedure_name, item.unit.name,
            item.received_on, item.first_appointment, item.current_appointment, item.finished_on,
            item.days_late, delay, LETTER_LABELS[item.letter_state], note,
        ]  # fmt: skip
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            keep_text(cell)
            cell.font, cell.border = _font(), _BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center" if column == 1 else None)
            if isinstance(value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, int):
                cell.number_format = COUNT_FORMAT
    total = row + 1
    sheet.cell(row=total, column=2, value=f"Tổng cộng: {len(late.rows)} hồ sơ trễ hạn").font = _font(bold=True)
    _signature(sheet, total + 2, width, ("Văn phòng Chính phủ (Cục Kiểm soát TTHC);", "Lưu: VT."))
    _print(sheet, REGISTER_WIDTHS, f"{header}:{header}", "Sổ theo dõi hồ sơ trễ hạn")


def _heading(sheet: Worksheet, width: int, province: str, title: str, period: Period, stamp: str, now: datetime) -> int:
    """The formal heading (issuing body and number | nation and motto, place and date), the title, the period and
    the figures' stamp; returns the next free row."""
    split = max(3, width // 3)
    today = now.astimezone(VN_TZ).date()
    left = (committee(province).upper(), "", "Số:        /BC-UBND")
    right = (NATION, MOTTO, f"{place_name(province)}, ngày {today.day} tháng {today.month} năm {today.year}")
    for offset in range(3):
        row = offset + 1
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=split)
        sheet.merge_cells(start_row=row, start_column=split + 1, end_row=row, end_column=width)
        a = sheet.cell(row=row, column=1, value=left[offset] or None)
        b = sheet.cell(row=row, column=split + 1, value=right[offset])
        a.font = _font(bold=offset == 0)
        b.font = _font(bold=offset < 2, italic=offset == 2, underline="single" if offset == 1 else None)
        a.alignment = b.alignment = Alignment(horizontal="center")
    lines = ((title, _font(bold=True, size=14)), (period_text(period), _font(bold=True)),
             (f"(Số liệu {stamp})", _font(italic=True)))  # fmt: skip
    for offset, (text, font) in enumerate(lines):
        row = 5 + offset
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        cell = sheet.cell(row=row, column=1, value=text)
        cell.font, cell.alignment = font, Alignment(horizontal="center")
    return 9


def _signature(sheet: Worksheet, row: int, width: int, recipients: Sequence[str]) -> None:
    """Recipients on the left; who prepared it and the head of the unit, who signs and seals, on the right."""
    sheet.cell(row=row, column=2, value="Nơi nhận:").font = _font(bold=True, italic=True)
    for offset, text in enumerate(recipients, start=1):
        cell = sheet.cell(row=row + offset, column=2, value=f"- {text}")
        cell.font = _font(size=11)
        keep_text(cell)  # "- ..." is how a spreadsheet starts a formula
    start = max(3, width - 5)
    for offset, (text, font) in enumerate(
        (("THỦ TRƯỞNG ĐƠN VỊ", _font(bold=True)), ("(Ký, ghi rõ họ tên và đóng dấu)", _font(italic=True)))
    ):
        sheet.merge_cells(start_row=row + offset, start_column=start, end_row=row + offset, end_column=width)
        cell = sheet.cell(row=row + offset, column=start, value=text)
        cell.font, cell.alignment = font, Alignment(horizontal="center")
    sheet.cell(row=row, column=start - 3, value="NGƯỜI LẬP BIỂU").font = _font(bold=True)


def _print(sheet: Worksheet, widths: Sequence[int], titles: str, header: str) -> None:
    """A4 landscape, one page wide (as many long as it takes), header rows on every page, page numbers."""
    for column, size in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = size
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.6, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    sheet.print_title_rows = titles
    top, bottom = sheet.oddHeader, sheet.oddFooter
    assert top is not None and bottom is not None  # a worksheet always has both
    top.right.text = header
    bottom.center.text = FOOTER
    bottom.center.font = _FONT


def _province(topology: Topology, day: date) -> str:
    provinces = [u for u in topology.active_units(day) if u.level is Level.PROVINCE]
    return provinces[0].name if provinces else topology.name


def _roman(number: int) -> str:
    text = ""
    for value, letters in _ROMAN:
        while number >= value:
            text, number = text + letters, number - value
    return text


def _font(
    *, bold: bool = False, italic: bool = False, size: int = 12, underline: Literal["single"] | None = None
) -> Font:
    return Font(name=_FONT, bold=bold, italic=italic, size=size, underline=underline)
