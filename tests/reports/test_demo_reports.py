"""On the demo's own database (Done-when 2 of issue 16): a small Đà Nẵng demo across the July 2025 merger, then
``dvc-hub report ... --json`` prints exactly what the console's JSON API answers for the same periods, and the
register has late dossiers and apologies to show."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import structlog
from docx import Document
from rich.console import Console as Terminal
from typer.testing import CliRunner

from cli.main import app
from console.app import Console
from devtools import demo
from foundation.topology import load
from hub.store.db import Database
from hub.store.models import Dossier as DossierRow
from mappings.canonical import Dossier as CanonicalDossier
from reports.labels import number
from tests.admin import seed
from tests.admin.conftest import login
from tests.conftest import Serve

NEW_UNITS = {
    "48": "Thành phố Đà Nẵng",
    "20965": "Xã Núi Thành",
    "20971": "Xã Tam Xuân",
    "20984": "Xã Tam Anh",
    "20977": "Xã Đức Phú",
    "21004": "Xã Tam Mỹ",
    "20992": "Xã Tam Hải",
}


@pytest.fixture(scope="module")
def played(serves_http: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A small demo (a backlog over June, then two hours over midnight into 1 July) into a temporary folder."""
    directory = tmp_path_factory.mktemp("demo")
    root = logging.getLogger()
    handlers, level, structlog_config = root.handlers[:], root.level, structlog.get_config()
    with pytest.MonkeyPatch.context() as env:
        for ref, (username, password) in demo.DEMO_CREDENTIALS.items():
            env.setenv(f"DVC_HUB_CRED_{ref}_USERNAME", username)
            env.setenv(f"DVC_HUB_CRED_{ref}_PASSWORD", password)
        out = io.StringIO()
        try:
            code = demo.run(
                Terminal(file=out, width=200),
                hours=2,
                backlog=120,
                faults=False,
                topology_name="da-nang-2025",
                directory=directory,
            )
        finally:  # the demo configures the process's logging for a terminal: the next tests get theirs back
            root.handlers[:] = handlers
            root.setLevel(level)
            structlog.configure(**structlog_config)
    assert code == 0, out.getvalue()
    yield directory, out.getvalue()


@pytest.fixture(scope="module")
def http(start_console: Serve, played: tuple[Path, str]) -> Iterator[httpx.Client]:
    directory, _ = played
    db = Database(f"sqlite:///{directory / 'hub.sqlite3'}")
    seed.users(db)
    for live in start_console(Console(db=db, topology=load(directory / "topology.yaml"))):
        with httpx.Client(base_url=live.url, timeout=30) as client:
            answer = client.post("/api/v1/session", json={"username": "viewer", "password": seed.PASSWORD})
            assert answer.status_code == 200, answer.text
            client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
            yield client
    db.dispose()


def test_the_demo_crosses_the_merger_with_nothing_missing_mismatched_or_parked(played: tuple[Path, str]) -> None:
    _, output = played
    assert "01/07/2025 00:00: sáp nhập (merger)" in output
    assert "OK: 0 missing, 0 mismatched at the portal, 0 mismatched between levels, 0 parked." in output


@pytest.mark.parametrize("period", ["2025-06", "2025-07"])
@pytest.mark.parametrize("report", ["indicators", "late"])
def test_the_cli_prints_what_the_console_shows_on_the_demo_database(
    played: tuple[Path, str], http: httpx.Client, monkeypatch: pytest.MonkeyPatch, report: str, period: str
) -> None:
    directory, _ = played
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", f"sqlite:///{directory / 'hub.sqlite3'}")
    monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(directory / "topology.yaml"))

    # an operator's view: the CLI's user reads the database, apologies' reasons included (a viewer's are masked)
    answer = http.post("/api/v1/session", json={"username": "operator", "password": seed.PASSWORD})
    assert answer.status_code == 200, answer.text
    operator = {"Authorization": f"Bearer {answer.json()['token']}"}
    shown = http.get(f"/api/v1/reports/{report}", params={"period": period}, headers=operator)
    printed = CliRunner().invoke(app, ["report", report, "--period", period, "--json"])

    assert shown.status_code == 200, shown.text
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == shown.json()
    assert shown.json()["rows"], "an empty report would prove nothing"


def test_the_demo_summary_states_the_late_count_and_stamp_the_console_shows(
    played: tuple[Path, str], http: httpx.Client
) -> None:
    # The demo judges at how far its hub saw the simulated world, as the console does on its database (issue 24):
    # June, and the month the store has seen last, which the dashboard shows by default
    _, output = played
    current = http.get("/api/v1/dashboard").json()
    for period in sorted({"2025-06", current["late_period"]}):
        shown = http.get("/api/v1/reports/late", params={"period": period}).json()
        tile = http.get("/api/v1/dashboard", params={"period": period}).json()

        line = f"{period}: {number(len(shown['rows']))} hồ sơ trễ hạn (late) {shown['as_of_text']},"
        assert line in " ".join(output.split()), output
        assert (tile["late_total"], tile["late_as_of_text"]) == (len(shown["rows"]), shown["as_of_text"])
    assert f"Chỉ số {current['late_period']}, {current['late_as_of_text']}" in output


def test_the_demo_has_late_dossiers_and_apologies_and_rolls_merged_communes_up(http: httpx.Client) -> None:
    late = http.get("/api/v1/reports/late", params={"period": "2025-06"}).json()["rows"]
    assert any(row["extensions"] for row in late), "no apology with a new appointment in the demo"
    assert any(not row["extensions"] for row in late), "no late dossier without an apology in the demo"
    # June counts the units of June; July counts June's dossiers of the merged units for their successors
    june = http.get("/api/v1/reports/indicators", params={"period": "2025-06"}).json()["rows"]
    assert {row["key"]: row["name"] for row in june if row["scope"] == "unit"}["517"] == "Huyện Núi Thành"
    july = http.get("/api/v1/reports/indicators", params={"period": "2025-07"}).json()["rows"]
    units = {row["key"]: row["name"] for row in july if row["scope"] == "unit"}
    assert len(units) > 1 and units == {code: NEW_UNITS[code] for code in units}
    assert {row["key"] for row in july if row["scope"] == "level"} <= {"province", "commune"}  # no district left


def test_an_apology_letter_of_a_late_demo_dossier_holds_its_fields_and_the_register_shows_it(
    played: tuple[Path, str], http: httpx.Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory, _ = played
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", f"sqlite:///{directory / 'hub.sqlite3'}")
    monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(directory / "topology.yaml"))
    late = http.get("/api/v1/reports/late", params={"period": "2025-06"}).json()["rows"]
    row = next(r for r in late if r["extensions"])  # apologised: every field of the letter is known
    code, apology = row["dossier_code"], row["extensions"][-1]

    # When an operator writes its letter through the CLI
    out = tmp_path / "phieu.docx"
    printed = CliRunner().invoke(app, ["report", "apology", code, "--out", str(out)])

    # Then the letter holds what the store holds for the dossier (read here from the store, not from the letter code)
    assert printed.exit_code == 0, printed.output
    db = Database(f"sqlite:///{directory / 'hub.sqlite3'}")
    with db.session() as session:
        stored = session.get(DossierRow, code)
        assert stored is not None
        dossier = CanonicalDossier.model_validate(stored.data)
    db.dispose()
    document = Document(str(out))
    cells = [cell.text for table in document.tables for cell in table._cells]
    body = "\n".join(p.text for p in document.paragraphs)
    issued = date.fromisoformat(apology["issued_at"][:10])
    assert cells[1].startswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    assert cells[1].endswith(f"ngày {issued:%d} tháng {issued:%m} năm {issued:%Y}")
    assert "Số: …………/PXL" in cells[0] and "(Ký, ghi rõ họ tên và đóng dấu)" in cells[3]
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in body
    assert f"Kính gửi: {dossier.applicant.name}" in body
    assert dossier.received_at is not None
    assert f"Ngày {dossier.received_at:%d/%m/%Y}," in body
    assert f"hồ sơ đề nghị {dossier.procedure_name} của" in body and f"mã hồ sơ {code}." in body
    first = date.fromisoformat(row["first_appointment"])
    new = date.fromisoformat(apology["new_appointment"])
    assert f"ngày {first:%d/%m/%Y}." in body and f"vào ngày {new:%d/%m/%Y}." in body
    assert "{{" not in body + "".join(cells)

    # And the register shows it with its state; the operator gets the letter, a viewer neither link nor letter
    state = {"issued": "Đã phát hành", "late": "Phát hành muộn"}[row["letter_state"]]
    link = f"/reports/late/{code}/apology.docx"
    with (
        httpx.Client(base_url=http.base_url, timeout=30) as operator,
        httpx.Client(base_url=http.base_url, timeout=30) as viewer,
    ):
        login(operator, "operator")
        login(viewer, "viewer")
        page = operator.get("/reports/late", params={"period": "2025-06"}).text
        entry = page[page.index(f">{code}</a>") :].split("</tr>")[0]
        assert state in entry and link in entry
        assert "Tổng hợp sổ theo dõi" in page and "Tổng cộng" in page
        letter = operator.get(link)
        assert letter.status_code == 200
        assert f"Kính gửi: {dossier.applicant.name}" in "\n".join(
            p.text for p in Document(io.BytesIO(letter.content)).paragraphs
        )
        assert link not in viewer.get("/reports/late", params={"period": "2025-06"}).text
        assert viewer.get(link).status_code == 403
