"""The monthly workbook opens with openpyxl and holds every sheet with Vietnamese headers; the ``dvc-hub report``
commands print the same figures as the report functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli.main import app
from foundation.topology import load
from hub.store.db import Database
from reports.labels import EXTENSION_COLUMNS, INDICATOR_COLUMNS, REGISTER_COLUMNS
from reports.periods import parse_period
from reports.rules import Rules
from reports.service import Reports
from reports.workbook import SCORE_SHEET, SHEETS, write_monthly
from tests.conftest import TOPOLOGIES
from tests.reports import cases


@pytest.fixture
def stored(db: Database) -> Database:
    cases.store(db, cases.facts(cases.QUANG_NAM))
    return db


def test_the_monthly_workbook_holds_every_sheet_with_vietnamese_headers(stored: Database, tmp_path: Path) -> None:
    reports = Reports(stored, load(TOPOLOGIES / "quang-nam-2023.yaml"), Rules())
    period, now = parse_period("2023-10"), cases.QUANG_NAM_NOW
    late = reports.late(period, now)
    indicators = reports.indicators(period, now)

    path = write_monthly(
        tmp_path / "bao-cao-2023-10.xlsx",
        province="Quảng Nam",
        period=period,
        indicators=indicators,
        late=late,
        now=now,
    )

    book = load_workbook(path)
    assert book.sheetnames == list(SHEETS)
    headers = {name: [c.value for c in book[name][4]] for name in SHEETS}
    assert headers["Hồ sơ trễ hạn"] == list(REGISTER_COLUMNS)
    assert headers["Xin lỗi - gia hạn"] == list(EXTENSION_COLUMNS)
    assert headers["Chỉ số"][2:] == [label for _, label in INDICATOR_COLUMNS]
    assert headers["Tổng hợp"] == ["Chỉ tiêu", "Kỳ 2023-10", "Kỳ trước 2023-09"]
    assert book["Chỉ số"]["A1"].value == "Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg) — Quảng Nam"
    # One row per register row, per extension, per indicator scope, with the figures of the reports
    register = book["Hồ sơ trễ hạn"]
    assert [register.cell(row=5 + i, column=1).value for i in range(len(late.rows))] == [
        r.dossier_code for r in late.rows
    ]
    assert [register.cell(row=5 + i, column=8).value for i in range(len(late.rows))] == [13, 11, 9, 8, 5]
    assert register.max_row == 4 + len(late.rows)
    assert book["Xin lỗi - gia hạn"].max_row == 4 + 2
    sheet = book["Chỉ số"]
    province_row = [c.value for c in sheet[4 + len(indicators.rows)]]
    assert province_row[0] == "Toàn tỉnh"
    # to process = carried over + received = solved + in progress; solved = early + on time + late + dropped
    assert province_row[2:13] == [9, 1, 8, 7, 2, 1, 3, 1, 2, 0, 2]
    assert book["Chỉ số"].freeze_panes == "B5"


@pytest.fixture
def cli_env(stored: Database, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(TOPOLOGIES / "quang-nam-2023.yaml"))


def test_report_commands_print_the_reports_as_json(stored: Database, cli_env: None) -> None:
    runner = CliRunner()
    late = runner.invoke(app, ["report", "late", "--period", "2023-10", "--json"])
    indicators = runner.invoke(app, ["report", "indicators", "--period", "2023-10", "--json"])
    breaches = runner.invoke(app, ["report", "late", "--period", "2023-10", "--breaches", "--open", "--json"])

    assert late.exit_code == 0, late.output
    assert indicators.exit_code == 0, indicators.output
    assert [r["days_late"] for r in json.loads(late.stdout)["rows"]] == [13, 11, 9, 8, 5]
    province = next(r for r in json.loads(indicators.stdout)["rows"] if r["scope"] == "all")
    assert (province["received"], province["online_rate"], province["sync_coverage"]) == (8, 62.5, 87.5)
    assert [r["days_late"] for r in json.loads(breaches.stdout)["rows"]] == [13, 11]


def test_report_monthly_writes_the_workbook(stored: Database, cli_env: None, tmp_path: Path) -> None:
    out = tmp_path / "thang.xlsx"
    result = CliRunner().invoke(app, ["report", "monthly", "--month", "2023-10", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == [*SHEETS, SCORE_SHEET]


def test_a_wrong_period_is_refused_with_the_form_it_needs(cli_env: None) -> None:
    result = CliRunner().invoke(app, ["report", "late", "--period", "2023-13"])
    assert result.exit_code == 2
    assert "không tồn tại" in result.output
