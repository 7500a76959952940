"""One computation, one figure (issue 24, Done-when 1): October 2023 on one store, through the CLI, the JSON API, the
workbook and the dashboard, gives the same late count with the same "as of" stamp.

The store is like the demo's: its one-stop-shops ran on another clock (October 2023) than the hub (December 2026),
and the hub's last poll found nothing after 17:00 on 12 October. Judged at the wall clock, October would look closed
on the 31st and every dossier still open in the store past its appointment by then would count as late.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from typer.testing import CliRunner

from cli.main import app
from console.app import Console
from foundation.topology import load
from hub.store.db import Database
from hub.store.models import Dossier
from mappings.codes import Status
from tests.admin import seed
from tests.admin.conftest import login
from tests.conftest import TOPOLOGIES, Serve
from tests.reports import cases
from tests.reports.cases import IN_PERSON, ONLINE, Case
from tests.servers import Live

TOPOLOGY = TOPOLOGIES / "quang-nam-2023.yaml"
D = cases.D
STAMP = "tính đến 17:00 ngày 12/10/2023"
HUB_CLOCK = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)  # when the hub accepted the newest change (its own clock)

# As of 17:00 on 12 October: one dossier finished late, one open past its appointment (2 late); three open and not
# yet due, that a judgement on 31 October would count late too (5 late); one early.
STOPPED_MID_OCTOBER: tuple[Case, ...] = (
    Case("open, due 9 Oct", "20968", D(2023, 10, 2), D(2023, 10, 9), Status.PROCESSING, ONLINE, "P1"),
    Case("finished a day late", "20971", D(2023, 10, 3), D(2023, 10, 10), Status.DONE, IN_PERSON, "P3",
         finished=D(2023, 10, 11)),
    Case("open, due 16 Oct", "517", D(2023, 10, 4), D(2023, 10, 16), Status.PROCESSING, IN_PERSON, "P5"),
    Case("open, due 20 Oct", "20968", D(2023, 10, 5), D(2023, 10, 20), Status.PROCESSING, ONLINE, "P1"),
    Case("early", "20971", D(2023, 10, 6), D(2023, 10, 13), Status.DONE, ONLINE, "P3", finished=D(2023, 10, 9)),
    Case("the newest change", "20968", D(2023, 10, 12), D(2023, 10, 19), Status.PROCESSING, ONLINE, "P1",
         changed_at=cases.at(D(2023, 10, 12), 17)),
)  # fmt: skip
LATE = 2


@pytest.fixture
def stored(db: Database) -> Database:
    seed.users(db)
    cases.store(db, cases.facts(STOPPED_MID_OCTOBER))
    with db.session() as session:  # the hub accepted every version on its own clock, not the sources'
        session.execute(update(Dossier).values(updated_at=HUB_CLOCK))
    cases.polled(db, HUB_CLOCK + timedelta(seconds=20))  # and its last poll, 20 s later, found nothing newer
    return db


@pytest.fixture
def live(start_console: Serve, stored: Database) -> Iterator[Live]:
    yield from start_console(Console(db=stored, topology=load(TOPOLOGY)))


@pytest.fixture
def http(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture
def cli_env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(TOPOLOGY))


def _bearer(http: httpx.Client) -> dict[str, str]:
    answer = http.post("/api/v1/session", json={"username": "viewer", "password": seed.PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_october_2023_has_one_late_count_and_one_stamp_everywhere(
    http: httpx.Client, cli_env: None, tmp_path: Path
) -> None:
    # When October 2023 is asked of the CLI, the JSON API, the workbook (from the CLI and the console) and the dashboard
    runner = CliRunner()
    printed = runner.invoke(app, ["report", "late", "--period", "2023-10", "--json"])
    table = runner.invoke(app, ["report", "indicators", "--period", "2023-10"], env={"COLUMNS": "400"})
    made = runner.invoke(app, ["report", "monthly", "--month", "2023-10", "--out", str(tmp_path / "b.xlsx")])
    headers = _bearer(http)
    api = http.get("/api/v1/reports/late", params={"period": "2023-10"}, headers=headers).json()
    indicators = http.get("/api/v1/reports/indicators", params={"period": "2023-10"}, headers=headers).json()
    tile = http.get("/api/v1/dashboard", params={"period": "2023-10"}, headers=headers).json()
    login(http, "viewer")
    downloaded = http.get("/reports/monthly.xlsx", params={"month": "2023-10"})
    page = http.get("/", params={"period": "2023-10"})

    # Then every one says 2 late, as of 17:00 on 12 October
    assert printed.exit_code == 0 and table.exit_code == 0 and made.exit_code == 0, printed.output + made.output
    cli = json.loads(printed.stdout)
    assert (len(cli["rows"]), cli["as_of_text"]) == (LATE, STAMP)
    assert cli == api
    assert STAMP in table.stdout
    province = next(r for r in indicators["rows"] if r["scope"] == "all")
    assert (province["late"], indicators["as_of_text"]) == (LATE, STAMP)
    for book in (load_workbook(tmp_path / "b.xlsx"), load_workbook(BytesIO(downloaded.content))):
        summary = book["Tổng hợp"]
        assert summary["A2"].value.endswith(f"số liệu {STAMP}")
        late_row = next(row for row in summary.iter_rows(values_only=True) if row[0] == "Hồ sơ trễ hạn")
        assert late_row[1] == LATE
        assert book["Hồ sơ trễ hạn"]["A2"].value.endswith(f"số liệu {STAMP}")
    assert (tile["late_total"], tile["late_period"], tile["late_as_of_text"]) == (LATE, "2023-10", STAMP)
    assert page.status_code == 200
    assert re.search(rf"<b>{LATE}</b></a><span>[^<]*2023-10<br><small class=\"as-of\">{STAMP}</small>", page.text)


def test_by_default_every_place_shows_the_month_the_store_has_seen(http: httpx.Client, cli_env: None) -> None:
    # The wall clock says December 2026; the store knows October 2023 until the 12th: "this month" is that October.
    printed = CliRunner().invoke(app, ["report", "late", "--json"])
    tile = http.get("/api/v1/dashboard", headers=_bearer(http)).json()

    assert printed.exit_code == 0, printed.output
    assert (json.loads(printed.stdout)["period"], len(json.loads(printed.stdout)["rows"])) == ("2023-10", LATE)
    assert (tile["late_period"], tile["late_total"], tile["late_as_of_text"]) == ("2023-10", LATE, STAMP)


def test_a_closed_month_is_judged_at_the_end_of_its_last_day(stored: Database, cli_env: None) -> None:
    # September is over for a store that knows October: its stamp is its last day's end, not the store's newest news
    printed = CliRunner().invoke(app, ["report", "late", "--period", "2023-09", "--json"])

    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["as_of_text"] == "tính đến 24:00 ngày 30/09/2023"


def test_a_month_the_store_has_no_news_of_is_judged_at_its_first_moment(stored: Database, cli_env: None) -> None:
    # November has not begun for a store that knows October until the 12th: what it carries over, nothing received
    printed = CliRunner().invoke(app, ["report", "indicators", "--period", "2023-11", "--json"])

    assert printed.exit_code == 0, printed.output
    report = json.loads(printed.stdout)
    province = next(r for r in report["rows"] if r["scope"] == "all")
    assert report["as_of_text"] == "tính đến 00:00 ngày 01/11/2023"
    assert (province["carried_over"], province["received"], province["in_progress"]) == (4, 0, 4)
