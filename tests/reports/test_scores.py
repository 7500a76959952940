"""Decision 766 points of the October 2023 fixed set (tests/reports/cases.py), worked out by hand below from the
counts test_register_and_indicators.py asserts, never by calling the scoring code.

The criteria (reports/rules.py defaults): timeliness 20 × timely rate; online services 6 × share of online
procedures used + 6 × online rate; online payment 10 × online-payment rate; digitisation 8 × digitised + 8 ×
electronic results + 6 × reused. Rates are the indicators' percentages, rounded to one decimal as shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from rich.console import Console

from foundation.topology import Topology, load
from hub.store.db import Database
from migrations import upgrade
from reports.cli import scores_table
from reports.indicators import Calculator
from reports.periods import parse_period
from reports.places import Placer
from reports.rules import Rules
from reports.scores import NOT_ENOUGH_DATA, ScoreRow, score
from reports.service import Reports
from reports.workbook import SCORE_SHEET, write_monthly
from tests.conftest import TOPOLOGIES
from tests.reports import cases
from tests.reports.cases import QUANG_NAM, QUANG_NAM_NOW


@pytest.fixture(scope="module")
def october() -> dict[tuple[str, str], ScoreRow]:
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    span = parse_period("2023-10")
    rows = Calculator(span, Placer(topology, span.end), Rules(), QUANG_NAM_NOW, QUANG_NAM_NOW).compute(
        cases.facts(QUANG_NAM)
    )
    return {(r.scope, r.key): r for r in score(rows, Rules().qd766_criteria)}


def points(row: ScoreRow) -> dict[str, float | None]:
    return {g.key: g.points for g in row.groups}


def test_tam_xuan_i_points_by_hand(october: dict[tuple[str, str], ScoreRow]) -> None:
    row = october["unit", "20968"]
    # 4 received: early, on time, late (finished), refused; nothing in progress.
    timeliness = 20 * 66.7 / 100  # (1 early + 1 on time) / (3 with a result + 0 overdue open) = 66,7 %
    online = 6 * 100.0 / 100 + 6 * 50.0 / 100  # 2 of 2 online procedures used; 2 of 4 received online
    payment = 10 * 100.0 / 100  # 1 fee-bearing dossier, paid online
    digitisation = 8 * 50.0 / 100 + 8 * 33.3 / 100 + 6 * 25.0 / 100  # 2/4 digitised, 1/3 e-results, 1/4 reused
    assert points(row) == {
        "publicity": None,
        "timeliness": pytest.approx(timeliness),  # 13,34
        "online_services": pytest.approx(online),  # 9
        "online_payment": pytest.approx(payment),  # 10
        "satisfaction": None,
        "digitisation": pytest.approx(round(digitisation, 2)),  # 4 + 2,664 + 1,5 = 8,16
    }
    assert row.total == pytest.approx(13.34 + 9 + 10 + 8.16)  # 40,5
    assert row.maximum == 20 + 12 + 10 + 22
    assert row.share == round(100 * 40.5 / 64, 1) == 63.3
    # Publicity and satisfaction are not the hub's to compute: said, not scored as zero.
    assert [g.text for g in row.groups if g.key in ("publicity", "satisfaction")] == [NOT_ENOUGH_DATA] * 2
    assert next(g.text for g in row.groups if g.key == "timeliness") == "13,34/20"


def test_tam_xuan_ii_points_by_hand(october: dict[tuple[str, str], ScoreRow]) -> None:
    row = october["unit", "20971"]
    timeliness = 20 * 33.3 / 100  # 1 early / (2 with a result + 1 overdue open) = 33,3 %: the open one counts
    online = 6 * 66.7 / 100 + 6 * 100.0 / 100  # 2 of 3 online procedures used; 2 of 2 received online
    payment = 10 * 0.0 / 100  # 1 fee-bearing, not paid online
    digitisation = 8 * 0.0 / 100 + 8 * 0.0 / 100 + 6 * 50.0 / 100  # none digitised, no e-result, 1/2 reused
    assert points(row) == {
        "publicity": None,
        "timeliness": pytest.approx(timeliness),  # 6,66
        "online_services": pytest.approx(round(online, 2)),  # 4,002 + 6 = 10,0
        "online_payment": payment,
        "satisfaction": None,
        "digitisation": pytest.approx(digitisation),  # 3
    }
    assert row.total == pytest.approx(6.66 + 10.0 + 0 + 3)  # 19,66 of 64
    assert row.share == round(100 * 19.66 / 64, 1) == 30.7


def test_a_unit_without_fee_bearing_dossiers_is_not_scored_on_payment(
    october: dict[tuple[str, str], ScoreRow],
) -> None:
    row = october["unit", "517"]  # Núi Thành: 2 received, 1 finished late, 1 open late, no fees
    assert points(row) == {
        "publicity": None,
        "timeliness": 0.0,  # 0 in time / (1 with a result + 1 overdue open)
        "online_services": pytest.approx(6 * 50.0 / 100 + 6 * 50.0 / 100),  # 1/2 procedures used, 1/2 online
        "online_payment": None,  # no fee-bearing dossier: nothing to divide by
        "satisfaction": None,
        "digitisation": pytest.approx(8 * 50.0 / 100 + 8 * 100.0 / 100 + 6 * 0.0 / 100),  # 1/2, 1/1, 0/2 = 12
    }
    assert row.total == pytest.approx(0 + 6 + 12)
    assert row.maximum == 20 + 12 + 22  # payment's 10 is not attainable without a fee-bearing dossier
    assert row.share == round(100 * 18 / 54, 1) == 33.3


def test_levels_and_province_by_hand_and_the_ranks(october: dict[tuple[str, str], ScoreRow]) -> None:
    commune = october["level", "commune"]
    # 6 received + 1 carried: 2 early, 1 on time, 2 late, 1 refused, 1 open late; 4 of 6 online; 4 of 5 procedures
    # used; 1 of 2 fee-bearing paid online; 2/6 digitised, 1/5 e-results, 2/6 reused.
    assert commune.total == pytest.approx(
        20 * 50.0 / 100  # 3 / (5 + 1) = 50 %: 10
        + round(6 * 80.0 / 100 + 6 * 66.7 / 100, 2)  # 4,8 + 4,002 = 8,8
        + 10 * 50.0 / 100  # 5
        + round(8 * 33.3 / 100 + 8 * 20.0 / 100 + 6 * 33.3 / 100, 2)  # 2,664 + 1,6 + 1,998 = 6,26
    )  # 30,06
    province = october["all", "all"]
    assert province.total == pytest.approx(
        20 * 37.5 / 100  # 3 / (6 + 2) = 37,5 %: 7,5
        + 6 * 80.0 / 100
        + 6 * 62.5 / 100  # 4/5 used, 5/8 online: 8,55
        + 10 * 50.0 / 100  # 5
        + round(8 * 37.5 / 100 + 8 * 33.3 / 100 + 6 * 25.0 / 100, 2)  # 3 + 2,664 + 1,5 = 7,16
    )  # 28,21
    # Ranked by the share of the attainable points: units among their level, levels among the levels.
    ranks = {key: (row.rank, row.rank_of) for key, row in october.items()}
    assert ranks == {
        ("unit", "20968"): (1, 2),  # 63,3 %
        ("unit", "20971"): (2, 2),  # 30,7 %
        ("unit", "517"): (1, 1),  # the only district unit
        ("level", "commune"): (1, 2),  # 30,06 / 64 = 47,0 %
        ("level", "district"): (2, 2),  # 18 / 54 = 33,3 %
        ("all", "all"): (None, None),
    }


def test_the_criteria_are_configuration_and_checked() -> None:
    rules = Rules(qd766_criteria={"timeliness": {"on_time_rate": 20.0}})
    assert rules.qd766_criteria == {"timeliness": {"on_time_rate": 20.0}}
    with pytest.raises(ValidationError, match="satisfaction"):
        Rules(qd766_criteria={"satisfaction": {"online_rate": 18.0}})
    with pytest.raises(ValidationError, match="made_up_rate"):
        Rules(qd766_criteria={"timeliness": {"made_up_rate": 20.0}})


@pytest.fixture
def store_db(any_db_url: str) -> Iterator[Database]:
    upgrade(any_db_url)
    database = Database(any_db_url)
    yield database
    database.dispose()


def test_the_trend_is_twelve_months_each_scored_as_its_own_report(store_db: Database) -> None:
    topology: Topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    cases.store(store_db, cases.facts(QUANG_NAM))
    reports = Reports(store_db, topology, Rules())
    october = parse_period("2023-10")

    report = reports.scores(october, QUANG_NAM_NOW)

    assert report.months == [f"2022-{m:02d}" for m in range(11, 13)] + [f"2023-{m:02d}" for m in range(1, 11)]
    tam_xuan_ii = next(r for r in report.rows if r.key == "20971")
    trend = dict(tam_xuan_ii.trend)
    # October is the month's own score; September's is what a September report scores (its one dossier, early).
    assert trend["2023-10"] == tam_xuan_ii.share
    september = reports.scores(parse_period("2023-09"), QUANG_NAM_NOW)
    assert trend["2023-09"] == next(r.share for r in september.rows if r.key == "20971")
    assert trend["2022-11"] is None  # no dossier then: no score, not zero
    assert report.as_of == reports.as_of(october, QUANG_NAM_NOW)


def test_the_cli_and_the_workbook_show_the_points(store_db: Database, tmp_path: Path) -> None:
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    cases.store(store_db, cases.facts(QUANG_NAM))
    reports = Reports(store_db, topology, Rules())
    october = parse_period("2023-10")
    report = reports.scores(october, QUANG_NAM_NOW)

    table = scores_table(report)
    console = Console(record=True, width=400)
    console.print(table)
    printed = console.export_text()
    assert "Tam Xuân" in printed and "13,34/20" in printed and "không đủ dữ liệu" in printed
    assert "40,50/64" in printed and "63,3 %" in printed and "1/2" in printed

    path = write_monthly(
        tmp_path / "thang.xlsx",
        province="Quảng Nam",
        period=october,
        indicators=reports.indicators(october, QUANG_NAM_NOW),
        late=reports.late(october, QUANG_NAM_NOW),
        now=QUANG_NAM_NOW,
        scores=report,
    )
    sheet = load_workbook(path)[SCORE_SHEET]
    headers = [c.value for c in sheet[4]]
    assert headers[1:7] == ["Công khai, minh bạch", "Tiến độ giải quyết", "Dịch vụ trực tuyến",
                            "Thanh toán trực tuyến", "Mức độ hài lòng", "Số hóa hồ sơ"]  # fmt: skip
    assert headers[-1] == "Tỷ lệ đạt 10/2023" and headers[-12] == "Tỷ lệ đạt 11/2022"
    row = next(line for line in sheet.iter_rows(min_row=5) if str(line[0].value).endswith("(20968)"))
    assert [c.value for c in row[1:11]] == [NOT_ENOUGH_DATA, 13.34, 9.0, 10.0, NOT_ENOUGH_DATA, 8.16, 40.5, 64.0,
                                            0.633, "1/2"]  # fmt: skip
    assert (row[2].number_format, row[9].number_format, row[-1].number_format) == ("0.00", "0.0%", "0.0%")
