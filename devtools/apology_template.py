"""Writes the apology letter's Word template (reports/templates/phieu-xin-loi.docx) in the layout of form 04 of
Circular 01/2018/TT-VPCP: the heading in two columns (issuing body, number / national emblem line, place and date),
the title, the body with every field as a docxtpl placeholder, and the recipients beside the signature block. A4,
Times New Roman 13, margins of Decree 30/2020 (top and bottom 20 mm, left 30 mm, right 15 mm).

An office may edit the .docx in Word instead, keeping the ``{{ ... }}`` placeholders; run
``python -m devtools.apology_template`` only to start again from this layout.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docx.table import _Cell

from reports.apology import TEMPLATE

FONT = "Times New Roman"
CENTER, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY

BODY = (
    "Ngày {{ received_on }}, {{ issuing_unit_name }} tiếp nhận giải quyết hồ sơ đề nghị {{ procedure }} của "
    "Ông/Bà/Tổ chức {{ applicant }}, mã hồ sơ {{ dossier_code }}.",
    "Thời gian hẹn trả kết quả giải quyết hồ sơ: {{ first_appointment }}.",
    "Tuy nhiên đến nay, {{ issuing_unit_name }} chưa trả kết quả giải quyết hồ sơ của Ông/Bà/Tổ chức theo đúng "
    "thời gian như đã hẹn vì lý do: {{ reason }} (đơn vị, bộ phận để chậm trễ: {{ delay_unit }}).",
    "Sự chậm trễ này đã gây phiền hà, tốn kém chi phí đi lại của Ông/Bà/Tổ chức. {{ issuing_unit_name }} xin lỗi "
    "Ông/Bà/Tổ chức và sẽ trả kết quả giải quyết hồ sơ cho Ông/Bà/Tổ chức vào ngày {{ new_appointment }}.",
    "Xin trân trọng cảm ơn sự hợp tác của Ông/Bà/Tổ chức./.",
)


def write(path: Path = TEMPLATE) -> Path:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)

    heading = document.add_table(rows=1, cols=2)
    heading.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = heading.rows[0].cells
    _line(left, "{{ managing_body }}", first=True)
    _line(left, "{{ issuing_unit }}", bold=True)
    _line(left, "-------")
    _line(left, "Số: {{ number }}")
    _line(right, "{{ nation }}", bold=True, size=12, first=True)  # 12 pt keeps the nation's line on one line
    _line(right, "{{ motto }}", bold=True)
    _line(right, "---------------")
    _line(right, "{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year }}", italic=True)

    _paragraph(document, "{{ title }}", bold=True, align=CENTER, before=18)
    _paragraph(document, "Kính gửi: {{ applicant }}", align=CENTER, after=12)
    for text in BODY:
        _paragraph(document, text, align=JUSTIFY, indent=True)

    _paragraph(document, "", after=6)
    footer = document.add_table(rows=1, cols=2)
    left, right = footer.rows[0].cells
    _line(left, "Nơi nhận:", bold=True, italic=True, size=12, first=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for index in range(3):
        _line(left, f"- {{{{ recipients[{index}] }}}}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _line(right, "{{ signer }}", bold=True, first=True)
    _line(right, "(Ký, ghi rõ họ tên và đóng dấu)", italic=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _line(
    cell: _Cell,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: int = 13,
    first: bool = False,
    align: WD_ALIGN_PARAGRAPH = CENTER,
) -> None:
    """One line of a heading cell, in a single run so that docxtpl sees each placeholder whole."""
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = align
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size, run.font.name = bold, italic, Pt(size), FONT


def _paragraph(
    document: DocumentObject,
    text: str,
    *,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH = JUSTIFY,
    before: int = 0,
    after: int = 6,
    indent: bool = False,
) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_before, paragraph.paragraph_format.space_after = Pt(before), Pt(after)
    if indent:
        paragraph.paragraph_format.first_line_indent = Mm(10)
    run = paragraph.add_run(text)
    run.bold, run.font.name = bold, FONT


if __name__ == "__main__":
    print(write())
