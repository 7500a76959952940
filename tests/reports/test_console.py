"""The console's report pages and JSON API: the same figures as ``dvc-hub report ... --json`` (Done-when 2), the
pages render the register with its breaches and the indicators with their charts, the workbook downloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import BytesIO

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli.main import app
from console.app import Console
from foundation.topology import load
from hub.store.db import Database
from reports.models import ReconciliationRun
from reports.workbook import SCORE_SHEET, SHEETS
from tests.admin import seed
from tests.admin.conftest import login
from tests.conftest import TOPOLOGIES, Serve
from tests.reports import cases
from tests.servers import Live

TOPOLOGY = TOPOLOGIES / "da-nang-2025.yaml"


@pytest.fixture
def live(start_console: Serve, db: Database) -> Iterator[Live]:
    seed.users(db)
    cases.store(db, cases.facts(cases.DA_NANG))
    cases.polled(db, cases.DA_NANG_NOW)
    yield from start_console(Console(db=db, topology=load(TOPOLOGY)))


@pytest.fixture
def http(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=30) as client:
        yield client


def _token(http: httpx.Client, username: str = "viewer") -> dict[str, str]:
    answer = http.post("/api/v1/session", json={"username": username, "password": seed.PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (["report", "indicators", "--period", "2025-07", "--json"], "/api/v1/reports/indicators?period=2025-07"),
        (["report", "late", "--period", "2025-07", "--json"], "/api/v1/reports/late?period=2025-07"),
        (["report", "scores", "--period", "2025-07", "--json"], "/api/v1/reports/scores?period=2025-07"),
        (["report", "late", "--period", "2025-Q3", "--unit", "20965", "--json"],
         "/api/v1/reports/late?period=2025-Q3&unit=20965"),
    ],
)  # fmt: skip
def test_the_cli_prints_what_the_console_shows(
    http: httpx.Client, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, command: list[str], path: str
) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(TOPOLOGY))

    # an operator's view: the CLI's user reads the database, apologies' reasons included (a viewer's are masked)
    shown = http.get(path, headers=_token(http, "operator"))
    printed = CliRunner().invoke(app, command)

    assert shown.status_code == 200, shown.text
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == shown.json()
    assert shown.json()["rows"], "an empty report would prove nothing"


def test_the_api_needs_a_session_and_a_valid_period(http: httpx.Client) -> None:
    assert http.get("/api/v1/reports/late").status_code == 401
    wrong = http.get("/api/v1/reports/indicators?period=2025-13", headers=_token(http))
    assert wrong.status_code == 422
    assert "2025-13" in wrong.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/late?period=0001-01",
        "/api/v1/reports/indicators?period=9999-12-31",
        "/api/v1/reports/indicators?period=0001",
        "/api/v1/dashboard?period=9999-Q4",
        "/reports/late?period=0001-01",
        "/reports/indicators?period=9999-12-31",
        "/reports/monthly.xlsx?month=0001-01",
        "/?period=0001-01",
        f"/api/v1/messages/{10**30}",
        f"/messages/{10**30}",
    ],
)
def test_periods_and_ids_beyond_the_calendar_are_refused_in_vietnamese(http: httpx.Client, path: str) -> None:
    # Given a signed-in viewer (a cookie for the pages, a bearer token for the API)
    login(http, "viewer")
    headers = _token(http) if path.startswith("/api/") else {}
    # When they ask for a period at the calendar's ends or an id beyond the database's integers
    answer = http.get(path, headers=headers)
    # Then the console says what is wrong, in Vietnamese first, and does not crash
    assert answer.status_code == 422, answer.text
    assert "không hợp lệ" in answer.text or "ngoài" in answer.text, answer.text


def test_a_huge_run_id_is_refused_in_vietnamese_on_the_page_and_the_api(http: httpx.Client) -> None:
    csrf = login(http, "operator")
    huge = 10**30
    page = http.post(f"/reports/reconciliation/{huge}/repair", data={"csrf": csrf})
    api = http.post(f"/api/v1/reports/reconciliation/{huge}/repair", headers=_token_of(http, "operator"))
    assert page.status_code == 422 and "không hợp lệ" in page.text, page.text
    assert api.status_code == 422 and "không hợp lệ" in api.json()["detail"][0]["msg"], api.text


def _token_of(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post("/api/v1/session", json={"username": username, "password": seed.PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_the_late_page_shows_apologies_and_breaches(http: httpx.Client) -> None:
    login(http, "viewer")

    page = http.get("/reports/late?period=2025-07")
    breaches = http.get("/reports/late?period=2025-07&breaches=true&state=open")

    assert page.status_code == 200
    assert page.text.count("Trễ hạn chưa xin lỗi") == 2  # the two dossiers late without apology
    assert 'aria-label="bars"' in page.text  # late dossiers by unit, above the list
    assert page.text.count("Dự thảo, chưa phát hành") >= 2  # their letters: drafted, in the list and the summary
    assert "15/07 → 10/08/2025" in page.text  # the district's apology: old and new appointment
    assert cases.by_name(cases.DA_NANG, "received by Xã Núi Thành, late open, no apology") in breaches.text
    assert cases.by_name(cases.DA_NANG, "received by Tam Xuân II before the merger, late") not in breaches.text


def test_the_indicators_page_draws_month_over_month_charts(http: httpx.Client) -> None:
    login(http, "viewer")

    page = http.get("/reports/indicators?period=2025-07")

    assert page.status_code == 200
    assert page.text.count('aria-label="paired bars"') == 3
    assert "Xã Tam Xuân (20971)" in page.text and "Toàn tỉnh" in page.text
    assert "Huyện Núi Thành" not in page.text  # rolled up to the city after the merger


def test_the_indicators_page_states_its_stamp_the_rate_with_what_it_divides_and_the_definitions(
    http: httpx.Client,
) -> None:
    login(http, "viewer")

    page = http.get("/reports/indicators?period=2025-07").text

    # The province in July: 1 early + 1 on time of 3 finished with a result; 2 in progress past the appointment
    assert "tính đến 24:00 ngày 31/07/2025" in page
    assert "66,7 % (2/3)" in page
    assert ">66,7 %</text>" in page  # the on-time chart's bar, written the same way
    assert 'title="Chưa kết thúc mà đã qua ngày hẹn trả lần đầu' in page  # the overdue column's tooltip
    assert "<dt>Đang giải quyết quá hạn</dt>" in page and "<dt>Tỷ lệ đúng hạn (%)</dt>" in page


def test_the_scores_page_shows_points_per_group_rank_and_trend(http: httpx.Client) -> None:
    login(http, "viewer")

    page = http.get("/reports/scores?period=2025-07").text

    assert "tính đến 24:00 ngày 31/07/2025" in page
    assert "Tiến độ giải quyết (20)" in page and "Số hóa hồ sơ (22)" in page
    assert page.count("không đủ dữ liệu") >= 2 * page.count('aria-label="12 tháng"') > 0  # publicity, satisfaction
    assert "Toàn tỉnh" in page and "Xã Tam Xuân (20971)" in page


def test_the_monthly_workbook_downloads(http: httpx.Client) -> None:
    login(http, "viewer")

    answer = http.get("/reports/monthly.xlsx?month=2025-07")

    assert answer.status_code == 200
    assert load_workbook(BytesIO(answer.content)).sheetnames == [*SHEETS, SCORE_SHEET]


def _run_with_differences(db: Database) -> int:
    code = cases.by_name(cases.DA_NANG, "received by Xã Núi Thành, late open, no apology")
    with db.session() as session:
        run = ReconciliationRun(
            unit_code="20965",
            source="motcua-danang",
            target="dvcqg",
            range_from=cases.at(cases.D(2025, 7, 1)),
            range_to=cases.at(cases.D(2025, 7, 31)),
            sample=1.0,
            listed=2,
            checked=2,
            differences=[{"dossier_code": code, "kind": "missing", "source_status": 4}],
            finished_at=cases.DA_NANG_NOW,
        )
        session.add(run)
        session.flush()
        return run.id


def test_the_reconciliation_page_turns_a_run_into_a_replay_job_in_one_click(live: Live, http: httpx.Client) -> None:
    run_id = _run_with_differences(live.console.db)
    csrf = login(http, "operator")

    page = http.get("/reports/reconciliation")
    clicked = http.post(f"/reports/reconciliation/{run_id}/repair", data={"csrf": csrf})
    listed = http.get("/api/v1/reports/reconciliation?unit=20965", headers=_token(http))

    assert page.status_code == 200
    assert "thiếu trên DVCQG" in page.text and f"/reports/reconciliation/{run_id}/repair" in page.text
    assert clicked.status_code == 303
    job_id = listed.json()[0]["replay_job_id"]
    assert clicked.headers["location"] == f"/replay?created={job_id}"
    assert [d["kind"] for d in listed.json()[0]["differences"]] == ["missing"]
