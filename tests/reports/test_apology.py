"""The apology letter (form 04, phiếu xin lỗi và hẹn lại ngày trả kết quả) of the October 2023 fixed set's late
dossiers, opened with python-docx, and the register's letter states and summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from cli.main import app
from foundation.topology import load
from hub.store.db import Database
from migrations import upgrade
from reports.apology import TEMPLATE, render
from reports.periods import parse_period
from reports.register import LetterState
from reports.rules import Rules
from reports.service import Reports
from tests.conftest import TOPOLOGIES
from tests.reports import cases
from tests.reports.cases import QUANG_NAM, QUANG_NAM_NOW, by_name

FIELDS = ("managing_body", "issuing_unit", "issuing_unit_name", "number", "place", "day", "month", "year",
          "applicant", "received_on", "procedure", "dossier_code", "first_appointment", "reason", "delay_unit",
          "new_appointment", "signer", "nation", "motto", "title")  # fmt: skip


@pytest.fixture
def reports(any_db_url: str) -> Iterator[Reports]:
    upgrade(any_db_url)
    db = Database(any_db_url)
    cases.store(db, cases.facts(QUANG_NAM))
    yield Reports(db, load(TOPOLOGIES / "quang-nam-2023.yaml"), Rules())
    db.dispose()


def text_of(path: Path) -> tuple[list[str], list[str]]:
    """The heading and signature cells, and the body's paragraphs, of a .docx."""
    document = Document(str(path))
    cells = [cell.text for table in document.tables for cell in table._cells]
    return cells, [p.text for p in document.paragraphs if p.text]


def test_the_template_holds_a_placeholder_for_every_field() -> None:
    cells, paragraphs = text_of(TEMPLATE)
    text = "\n".join(cells + paragraphs)
    assert all("{{ " + field + " }}" in text for field in FIELDS), [f for f in FIELDS if f not in text]
    assert all(f"{{{{ recipients[{i}] }}}}" in text for i in range(3))


def test_a_letter_apologised_too_late_is_filled_from_the_dossier_and_its_apology(
    reports: Reports, tmp_path: Path
) -> None:
    code = by_name(QUANG_NAM, "extended after the deadline")
    found = reports.letter(code, QUANG_NAM_NOW)
    assert found is not None

    path = render(found, tmp_path / "phieu.docx")

    cells, body = text_of(path)
    # The heading: the district's committee above the commune's, the number left for the register, place and the
    # apology's issue date; the nation's line and motto on the right.
    assert cells[0] == "UBND HUYỆN NÚI THÀNH\nUBND XÃ TAM XUÂN II\n-------\nSố: …………/PXL"
    assert cells[1] == (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n---------------\n"
        "Quảng Nam, ngày 19 tháng 10 năm 2023"
    )
    assert body[:2] == ["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Kính gửi: Nguyễn Văn An"]
    assert body[2] == (
        f"Ngày 09/10/2023, UBND xã Tam Xuân II tiếp nhận giải quyết hồ sơ đề nghị Thủ tục P5 của Ông/Bà/Tổ chức "
        f"Nguyễn Văn An, mã hồ sơ {code}."
    )
    # The first appointment (with its hour, from the first version), the apology's reason and the new appointment
    assert body[3] == "Thời gian hẹn trả kết quả giải quyết hồ sơ: 17 giờ 00, ngày 18/10/2023."
    assert "vì lý do: Thiếu hồ sơ gốc (đơn vị, bộ phận để chậm trễ: Xã Tam Xuân II)." in body[4]
    assert body[5].endswith("trả kết quả giải quyết hồ sơ cho Ông/Bà/Tổ chức vào ngày 30/10/2023.")
    assert cells[2] == "Nơi nhận:\n- Như trên;\n- Xã Tam Xuân II (để biết);\n- Lưu: VT, Bộ phận Một cửa."
    assert cells[3] == "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ\n(Ký, ghi rõ họ tên và đóng dấu)"
    assert "{{" not in "".join(cells + body)
    # Printable: A4 portrait with Decree 30/2020's margins
    section = Document(str(path)).sections[0]
    assert section.page_width is not None and section.page_height is not None and section.left_margin is not None
    sizes = (section.page_width.mm, section.page_height.mm, section.left_margin.mm)
    assert tuple(round(size) for size in sizes) == (210, 297, 30)  # stored in twips: 210 mm is 210,01
    assert found.state is LetterState.LATE


def test_a_late_dossier_without_apology_gets_a_draft_dated_today_with_the_new_date_left_to_write(
    reports: Reports,
) -> None:
    found = reports.letter(by_name(QUANG_NAM, "appointment moved without apology"), QUANG_NAM_NOW)

    assert found is not None
    assert found.state is LetterState.DRAFTED
    today = reports.known_until(QUANG_NAM_NOW).date()  # how far the store knows the world
    assert (found.day, found.month, found.year) == (f"{today:%d}", f"{today:%m}", f"{today:%Y}")
    assert found.first_appointment.endswith("ngày 17/10/2023")  # the first appointment, not the moved one
    assert found.new_appointment == "27/10/2023"  # the source already moved it: the clerk confirms it
    assert found.reason == "…………"  # no apology, no step late on record: left for the clerk


def test_no_letter_for_a_dossier_on_time_or_unknown(reports: Reports) -> None:
    assert reports.letter(by_name(QUANG_NAM, "early"), QUANG_NAM_NOW) is None
    assert reports.letter("000.00.00.H47-990101-0001", QUANG_NAM_NOW) is None


def test_the_register_gives_each_late_dossier_its_letter_state_and_sums_them_per_unit_level_and_month(
    reports: Reports,
) -> None:
    late = reports.late(parse_period("2023-10"), QUANG_NAM_NOW)

    states = {r.dossier_code: r.letter_state for r in late.rows}
    assert states[by_name(QUANG_NAM, "extended after the deadline")] is LetterState.LATE
    assert states[by_name(QUANG_NAM, "extended in time")] is LetterState.ISSUED
    totals = {(t.scope, t.key): t for t in late.summary()}
    everything = totals["all", "all"]
    assert (everything.late, everything.drafted, everything.issued, everything.issued_late) == (5, 3, 1, 1)
    assert everything.without_apology == everything.drafted
    assert sum(t.late for (scope, _), t in totals.items() if scope == "unit") == 5
    assert sum(t.late for (scope, _), t in totals.items() if scope == "level") == 5
    assert sum(t.late for (scope, _), t in totals.items() if scope == "month") == 5
    assert totals["unit", "517"].name == "Huyện Núi Thành (517)"
    assert totals["level", "commune"].name == "Cấp xã"


def test_the_cli_refuses_a_dossier_that_is_not_late_in_one_line(db: Database, sqlite_url: str, tmp_path: Path) -> None:
    cases.store(db, cases.facts(QUANG_NAM))
    env = {"DVC_HUB_DATABASE_URL": sqlite_url, "DVC_HUB_TOPOLOGY_FILE": str(TOPOLOGIES / "quang-nam-2023.yaml")}
    on_time = by_name(QUANG_NAM, "early")

    result = CliRunner().invoke(app, ["report", "apology", on_time, "--out", str(tmp_path / "x.docx")], env=env)

    assert result.exit_code == 1
    # One message (rich wraps it to the terminal's width), no traceback
    assert " ".join(result.output.split()) == (
        f"Hồ sơ {on_time} không có trong kho hoặc không trễ hạn: không có phiếu xin lỗi (not late or unknown)"
    )
    assert not (tmp_path / "x.docx").exists()


def test_the_register_opens_on_the_last_month_with_a_late_dossier(db: Database) -> None:
    # Given dossiers of October, one finished late, and one received in November: the store knows into November,
    # where nothing is late
    kept = ("late finished, no apology", "early", "received after the period")
    cases.store(db, cases.facts(tuple(c for c in QUANG_NAM if c.name in kept)))
    reports = Reports(db, load(TOPOLOGIES / "quang-nam-2023.yaml"), Rules())
    assert reports.current_period(QUANG_NAM_NOW).label == "2023-11"
    assert not reports.late(parse_period("2023-11"), QUANG_NAM_NOW).rows

    # Then the register opens on October, not on an empty November
    assert reports.register_month(QUANG_NAM_NOW).label == "2023-10"
