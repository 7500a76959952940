"""The official workbook (forms 06a/06b/06c of Circular 01/2018/TT-VPCP per level, and the late register) of the
October 2023 fixed set, opened with openpyxl: the formal heading, the period written out, STT, names, bold
subtotals and totals, number and percentage formats, and A4 landscape one page wide with page numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from cli.main import app
from foundation.text import looks_like_formula
from foundation.topology import load
from hub.store.db import Database
from migrations import upgrade
from reports.official import REGISTER_SHEET, period_text, write_official
from reports.periods import parse_period
from reports.rules import Rules
from reports.service import Reports
from tests.conftest import TOPOLOGIES
from tests.reports import cases
from tests.reports.cases import QUANG_NAM, QUANG_NAM_NOW, by_name

TOPOLOGY = TOPOLOGIES / "quang-nam-2023.yaml"


@pytest.fixture
def stored(any_db_url: str) -> Iterator[Database]:
    upgrade(any_db_url)
    db = Database(any_db_url)
    cases.store(db, cases.facts(QUANG_NAM))
    yield db
    db.dispose()


@pytest.fixture
def book(stored: Database, tmp_path: Path) -> dict[str, Worksheet]:
    topology = load(TOPOLOGY)
    reports = Reports(stored, topology, Rules())
    october = parse_period("2023-10")
    path = write_official(
        tmp_path / "bieu-mau.xlsx",
        topology=topology,
        period=october,
        forms=reports.forms(october, QUANG_NAM_NOW),
        late=reports.late(october, QUANG_NAM_NOW),
        now=QUANG_NAM_NOW,
    )
    workbook = load_workbook(path)
    return {name: workbook[name] for name in workbook.sheetnames}


def values(sheet: Worksheet, row: int) -> list[Any]:
    return [c.value for c in sheet[row]]


def test_one_sheet_per_level_and_the_register(book: dict[str, Worksheet]) -> None:
    assert list(book) == ["Biểu 06b - Cấp huyện", "Biểu 06a - Cấp xã", REGISTER_SHEET]


def test_the_formal_heading_title_and_period(book: dict[str, Worksheet]) -> None:
    sheet = book["Biểu 06a - Cấp xã"]
    assert (sheet["A1"].value, sheet["F1"].value) == ("UBND TỈNH QUẢNG NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert (sheet["A3"].value, sheet["F2"].value) == ("Số:        /BC-UBND", "Độc lập - Tự do - Hạnh phúc")
    assert sheet["F3"].value == "Quảng Nam, ngày 5 tháng 11 năm 2023"  # the day it was made
    assert sheet["F2"].font.underline == "single" and sheet["A1"].font.bold
    assert sheet["A5"].value == "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH CẤP XÃ"
    assert sheet["A6"].value == "Tháng 10 năm 2023"
    assert sheet["A7"].value.startswith("(Số liệu tính đến ")
    assert "Biểu số 06a/VPCP/KSTT, Thông tư số 01/2018/TT-VPCP" in sheet["A7"].value
    assert "A1:E1" in sheet.merged_cells and "A5:O5" in sheet.merged_cells
    assert (period_text(parse_period("2023-Q4")), period_text(parse_period("2023"))) == ("Quý IV năm 2023", "Năm 2023")


def test_the_columns_follow_the_form(book: dict[str, Worksheet]) -> None:
    sheet = book["Biểu 06a - Cấp xã"]
    assert values(sheet, 11)[:3] == ["STT", "Đơn vị, lĩnh vực giải quyết", "Số hồ sơ nhận giải quyết"]
    assert values(sheet, 11)[6] == "Kết quả giải quyết"
    assert values(sheet, 13)[2:14] == [
        None, "Số kỳ trước chuyển qua", "Số mới tiếp nhận trực tuyến",
        "Số mới tiếp nhận trực tiếp, dịch vụ bưu chính công ích", "Tổng số", "Trả trước hạn", "Trả đúng thời hạn",
        "Trả quá hạn", "Trả lại, rút, dừng xử lý (*)", "Tổng số", "Chưa đến hạn", "Quá hạn",
    ]  # fmt: skip
    assert values(sheet, 14) == [f"({n})" for n in range(1, 16)]
    assert sheet.print_title_rows == "$11:$14"


def test_totals_and_unit_subtotals_are_bold_by_name_with_real_formats(book: dict[str, Worksheet]) -> None:
    sheet = book["Biểu 06a - Cấp xã"]
    total, first_unit = values(sheet, 15), values(sheet, 16)
    # The communes of the fixed set, by hand: 1 carried over + 6 received (4 online, 2 at the counter); solved 2
    # early, 1 on time, 2 late, 1 refused; 1 in progress past its appointment. 3 in time of 5 with a result: 60 %.
    assert total == [None, "Tổng cộng", 7, 1, 4, 2, 6, 2, 1, 2, 1, 1, 0, 1, pytest.approx(0.6)]
    assert first_unit[:2] == ["I", "Xã Tam Xuân I"]  # by name, not code
    assert first_unit[2] == 4
    assert values(sheet, 17)[0] == "1"  # its first field of procedures
    assert sheet["B15"].font.bold and sheet["B16"].font.bold and not sheet["B17"].font.bold
    assert sheet["C15"].number_format == "#,##0"
    assert sheet["O15"].number_format == "0.0%"
    assert all(row[2] == row[6] + row[11] for row in (total, first_unit))  # received = solved + in progress
    assert not any(str(v).startswith("2097") for v in total + first_unit)  # no code where a name belongs


def test_a4_landscape_one_page_wide_with_page_numbers(book: dict[str, Worksheet]) -> None:
    for sheet in book.values():
        setup = sheet.page_setup
        assert (setup.paperSize, setup.orientation) == (9, "landscape")  # 9: A4 in SpreadsheetML
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        fit, footer, header = sheet.sheet_properties.pageSetUpPr, sheet.oddFooter, sheet.oddHeader
        assert fit is not None and footer is not None and header is not None
        assert fit.fitToPage
        assert footer.center.text == "Trang &P/&N"
        assert header.right.text


def test_the_signature_block_closes_each_sheet(book: dict[str, Worksheet]) -> None:
    for sheet in book.values():
        texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        assert "Nơi nhận:" in texts and "THỦ TRƯỞNG ĐƠN VỊ" in texts
        assert "(Ký, ghi rõ họ tên và đóng dấu)" in texts and "NGƯỜI LẬP BIỂU" in texts


def test_the_register_lists_the_late_dossiers_with_dates_and_letter_states(book: dict[str, Worksheet]) -> None:
    sheet = book[REGISTER_SHEET]
    assert sheet["A5"].value == "SỔ THEO DÕI HỒ SƠ TRỄ HẠN VÀ PHIẾU XIN LỖI, HẸN LẠI NGÀY TRẢ KẾT QUẢ"
    assert values(sheet, 10)[:3] == ["STT", "Mã hồ sơ", "Thủ tục hành chính"]
    rows = [values(sheet, r) for r in range(11, 16)]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    late_apology = next(r for r in rows if r[1] == by_name(QUANG_NAM, "extended after the deadline"))
    assert late_apology[3] == "Xã Tam Xuân II" and late_apology[10] == "Phát hành muộn"
    assert sheet.cell(row=11, column=6).number_format == "DD/MM/YYYY"
    assert sheet.cell(row=16, column=2).value == "Tổng cộng: 5 hồ sơ trễ hạn"


def test_the_cli_writes_the_official_workbook(db: Database, sqlite_url: str, tmp_path: Path) -> None:
    cases.store(db, cases.facts(QUANG_NAM))
    out = tmp_path / "bieu.xlsx"
    env = {"DVC_HUB_DATABASE_URL": sqlite_url, "DVC_HUB_TOPOLOGY_FILE": str(TOPOLOGY)}

    result = CliRunner().invoke(app, ["report", "forms", "--period", "10/2023", "--out", str(out)], env=env)

    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames[-1] == REGISTER_SHEET


def test_formula_like_names_stay_text(stored: Database, tmp_path: Path) -> None:
    # Given a field of procedures and procedure names that start like formulas
    topology = load(TOPOLOGY)
    reports = Reports(stored, topology, Rules())
    october = parse_period("2023-10")
    forms, late = reports.forms(october, QUANG_NAM_NOW), reports.late(october, QUANG_NAM_NOW)
    level = forms.levels[0]
    unit = level.units[0]
    renamed = unit.model_copy(update={"lines": tuple(x.model_copy(update={"name": "=1+1"}) for x in unit.lines)})
    forms = forms.model_copy(
        update={"levels": [level.model_copy(update={"units": (renamed, *level.units[1:])}), *forms.levels[1:]]}
    )
    late = late.model_copy(update={"rows": [r.model_copy(update={"procedure_name": "@SUM(1+1)"}) for r in late.rows]})

    # When the official workbook is written
    path = write_official(
        tmp_path / "bieu.xlsx", topology=topology, period=october, forms=forms, late=late, now=QUANG_NAM_NOW
    )

    # Then they are text cells as typed, and the file holds no formula
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if looks_like_formula(c.value)]
    assert {"=1+1", "@SUM(1+1)"} <= {c.value for c in cells}
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert not [c for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]
