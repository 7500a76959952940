"""Procedure-code mappings: the pure lookup, versioned database rows, CSV import/export, the cached lookup, CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from hub import procedures
from hub.store.db import Database
from mappings.errors import ValidationFailed
from mappings.procedures import InMemoryProcedureLookup, NationalProcedure
from migrations import upgrade

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"


@pytest.fixture
def database(any_db_url: str) -> Iterator[Database]:
    upgrade(any_db_url)
    db = Database(any_db_url)
    yield db
    db.dispose()


def test_in_memory_lookup_reads_csv_with_a_byte_order_mark() -> None:
    text = "\ufeff" + (FIXTURES / "procedures.csv").read_text(encoding="utf-8")
    lookup = InMemoryProcedureLookup.from_csv(text)
    assert lookup("NT-HT-001") == NationalProcedure("1.001193", "G09-TP03", "Hộ tịch", "Đăng ký khai sinh")
    assert lookup("unknown") is None


def test_a_change_inserts_a_new_version_and_keeps_the_history(database: Database) -> None:
    first = procedures.set_mapping(database, "NT-HT-001", "1.001193", field_code="HT", user="an")
    same = procedures.set_mapping(database, "NT-HT-001", "1.001193", field_code="HT", user="binh")
    second = procedures.set_mapping(database, "NT-HT-001", "1.001194", user="binh", note="mã mới")

    assert (first.version, same.version, second.version) == (1, 1, 2)
    history = procedures.history(database, "NT-HT-001")
    assert [(v.version, v.active, v.target.national_code, v.created_by) for v in history] == [
        (1, False, "1.001193", "an"),
        (2, True, "1.001194", "binh"),
    ]
    current = procedures.get(database, "NT-HT-001")
    assert current is not None and current.target.national_code == "1.001194" and current.note == "mã mới"
    assert procedures.get(database, "missing") is None


def test_csv_import_is_idempotent_and_export_round_trips(database: Database) -> None:
    counts = procedures.import_csv(database, FIXTURES / "procedures.csv", user="an")
    assert (counts.created, counts.updated, counts.unchanged) == (3, 0, 0)
    again = procedures.import_csv(database, (FIXTURES / "procedures.csv").read_text(encoding="utf-8"), user="an")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    exported = procedures.export_csv(database)
    changed = exported.replace("1.001193", "1.009999")
    counts = procedures.import_csv(database, changed, user="binh")
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 2)
    assert procedures.export_csv(database) == changed
    assert InMemoryProcedureLookup.from_csv(changed)("NT-DD-002") == procedures.DbProcedureLookup(database)("NT-DD-002")


def test_bad_csv_lines_are_all_reported_and_nothing_is_imported(database: Database) -> None:
    bad = "local_code,national_code\nA,1.1\n,2.2\nA,3.3\n"
    with pytest.raises(ValidationFailed) as raised:
        procedures.import_csv(database, bad)
    assert [p.message_vi.split(":")[0] for p in raised.value.problems] == ["dòng 3", "dòng 4"]
    assert procedures.export_csv(database) == "local_code,national_code,procedure_name,field_code,field_name\r\n"


def test_cached_lookup_sees_changes_after_refresh(database: Database) -> None:
    lookup = procedures.DbProcedureLookup(database)
    assert lookup("NT-HT-001") is None
    procedures.set_mapping(database, "NT-HT-001", "1.001193")
    assert lookup("NT-HT-001") is None  # cached until refreshed
    lookup.refresh()
    found = lookup("NT-HT-001")
    assert found is not None and found.national_code == "1.001193"


def test_cli_import_set_show_export(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", sqlite_url)
    runner = CliRunner()

    result = runner.invoke(app, ["procedures", "import", str(FIXTURES / "procedures.csv"), "--user", "an"])
    assert result.exit_code == 0, result.output
    assert "3 mới" in result.output
    result = runner.invoke(app, ["procedures", "set", "NT-HT-001", "1.001194", "--note", "sửa mã"])
    assert result.exit_code == 0, result.output
    assert "Đã lưu NT-HT-001 → 1.001194 (Đăng ký khai sinh), phiên bản 2" in result.output
    result = runner.invoke(app, ["procedures", "show", "NT-HT-001"])
    assert result.exit_code == 0 and "1.001193" in result.output and "* v2" in result.output
    assert re.search(r"\| \d{2}/\d{2}/\d{4}\s+\d{2}:\d{2} ", result.output)  # when, in Vietnam time, dd/mm/yyyy
    out = tmp_path / "out.csv"
    assert runner.invoke(app, ["procedures", "export", "-o", str(out)]).exit_code == 0
    assert "NT-HT-001,1.001194,Đăng ký khai sinh,G09-TP03,Hộ tịch" in out.read_text(encoding="utf-8")
    assert runner.invoke(app, ["procedures", "show", "nothing"]).exit_code == 1
