"""The indicators reconcile (issue 24, Done-when 2): for random dossier sets, periods and "as of" moments, every row
(unit, level, province) has carried over + received = solved + in progress, its on-time rate is the numerator over the
denominator it shows beside it, the levels and the province are the sums of their units, and the late count is the
register's. Figures are written the vi_VN way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.clock import VN_TZ
from foundation.topology import load
from mappings.codes import Channel, Status
from reports.cli import summary_table
from reports.indicators import Calculator, Indicators
from reports.labels import as_of_text, number, percent, share
from reports.periods import Grain, Period, period_of
from reports.places import Placer
from reports.register import register
from reports.rules import Rules
from reports.service import IndicatorReport
from tests.conftest import TOPOLOGIES, examples
from tests.reports.cases import Case, extension

TOPOLOGY = load(TOPOLOGIES / "quang-nam-2023.yaml")
UNITS = ("49", "517", "20965", "20968", "20971", "20998", "99999")  # 99999: a code the topology does not know
FIRST_DAY, DAYS = date(2023, 8, 1), 150
COUNTS = ("carried_over", "received", "finished_early", "finished_on_time", "finished_late", "dropped",
          "open_on_time", "open_late", "online", "fee_bearing", "paid_online", "portal_expected")  # fmt: skip


@st.composite
def dossiers(draw: st.DrawFn) -> Case:
    received = FIRST_DAY + timedelta(days=draw(st.integers(0, DAYS)))
    status = draw(st.sampled_from(Status))
    appointment = draw(st.none() | st.integers(0, 30).map(lambda d: received + timedelta(days=d)))
    finished = None
    if status in (Status.DONE, Status.RETURNED):
        finished = draw(st.none() | st.integers(0, 45).map(lambda d: received + timedelta(days=d)))
    first: date | None = None
    supplements: tuple[dict[str, Any], ...] = ()
    if appointment is not None and draw(st.booleans()):  # an apology moved the appointment by a few days
        first = appointment - timedelta(days=draw(st.integers(1, 10)))
        issued = first - timedelta(days=draw(st.integers(-3, 3)))
        supplements = (extension(issued, first, appointment, "Chờ xác minh"),)
    unit = draw(st.sampled_from(UNITS))
    return Case(
        name="random",
        unit=unit,
        received=received,
        appointment=appointment,
        status=status,
        channel=draw(st.sampled_from([Channel.ONLINE, Channel.IN_PERSON])),
        procedure=draw(st.sampled_from(["P1", "P2", "P3"])),
        level=draw(st.sampled_from([None, 2, 3, 4])),
        finished=finished,
        first_appointment=first,
        fee=draw(st.sampled_from([0, 20000])),
        paid_online=draw(st.booleans()),
        supplements=supplements,
        delivered_version=draw(st.none() | st.just(1)),
        agency="000.00.00.H47" if unit == "99999" else None,
    )


@st.composite
def periods(draw: st.DrawFn) -> tuple[Period, datetime]:
    """A day, month or quarter of the dossiers' span, and an "as of" moment from before it to after its end."""
    grain = draw(st.sampled_from([Grain.DAY, Grain.MONTH, Grain.QUARTER]))
    period = period_of(grain, FIRST_DAY + timedelta(days=draw(st.integers(0, DAYS))))
    day = period.start + timedelta(days=draw(st.integers(-5, (period.end - period.start).days + 20)))
    as_of = datetime.combine(day, time(draw(st.integers(0, 23))), tzinfo=VN_TZ)
    return period, as_of


def _closed(case: Case) -> date | None:
    """When the case left the queue, worked out from how it was drawn: finished, else a closed status's last day."""
    if case.finished is not None:
        return case.finished
    closing = (Status.DONE, Status.RETURNED, Status.REFUSED, Status.WITHDRAWN, Status.STOPPED)
    return case.received if case.status in closing else None  # updated (or refused) on the day it was received


def _sum(rows: list[Indicators]) -> dict[str, int]:
    return {name: sum(getattr(r, name) for r in rows) for name in COUNTS}


@settings(max_examples=examples(150), deadline=None)
@given(cases=st.lists(dossiers(), max_size=25), span=periods())
def test_every_row_reconciles_and_states_what_its_rate_divides(
    cases: list[Case], span: tuple[Period, datetime]
) -> None:
    period, as_of = span
    if as_of.date() < period.start:
        return  # a period not begun at the moment it is judged has no report
    facts = [case.facts(n) for n, case in enumerate(cases, start=1)]
    placer = Placer(TOPOLOGY, as_of.date())

    rows = Calculator(period, placer, Rules(), as_of, as_of).compute(facts)

    for row in rows:
        # carried over + received = solved + in progress, in every row
        assert row.carried_over + row.received == row.to_process == row.solved + row.in_progress, row
        assert row.solved == row.finished_early + row.finished_on_time + row.finished_late + row.dropped
        assert row.in_progress == row.open_on_time + row.open_late
        # the on-time rate is what it says it divides, and says it beside it
        assert row.finished_in_time == row.finished_early + row.finished_on_time
        assert row.on_time_rate == (round(100 * row.finished_in_time / row.finished, 1) if row.finished else None)
        assert share(row.on_time_rate, row.finished_in_time, row.finished).endswith(
            f"({row.finished_in_time}/{row.finished})"
        )
    # and the province's sides are the dossiers the period had: received in it (by the day judged), or before it and
    # still open at its start; of those, the ones not closed by the day judged are in progress
    judged = min(period.end, as_of.date())
    had = [c for c in cases if c.received <= judged and ((closed := _closed(c)) is None or closed >= period.start)]
    open_then = [c for c in had if (closed := _closed(c)) is None or closed > judged]
    province = [r for r in rows if r.scope == "all"]
    expected = (sum(c.received < period.start for c in had), sum(c.received >= period.start for c in had))
    assert [(p.carried_over, p.received, p.in_progress) for p in province] == (
        [(*expected, len(open_then))] if had else []
    )
    units = [r for r in rows if r.scope == "unit"]
    if units:
        assert [_sum([p]) for p in province] == [_sum(units)]
        for level in (r for r in rows if r.scope == "level"):
            assert _sum([level]) == _sum([u for u in units if u.level == level.level])
    # the register lists exactly the late dossiers the indicators count
    late = register(facts, period.start, min(period.end, as_of.date()), placer, Rules())
    assert len(late) == sum(r.late for r in province)


def test_the_summary_table_shows_the_reconciliation_the_rate_and_the_overdue_in_vi_vn() -> None:
    # Given a province row: 1 carried over + 1.234 received = 1.228 solved + 7 in progress (3 of them overdue)
    row = Indicators(
        scope="all", key="all", name="all", level=None, period="2023-10", carried_over=1, received=1234,
        finished_early=400, finished_on_time=300, finished_late=525, dropped=3, open_on_time=4, open_late=3,
    )  # fmt: skip
    as_of = datetime(2023, 10, 31, 17, 0, tzinfo=VN_TZ)
    report = IndicatorReport(
        period="2023-10", as_of=as_of, previous_period="2023-09", previous_as_of=as_of, rows=[row], previous=[]
    )

    table = summary_table(report)

    cells = {column.header: next(iter(column.cells)) for column in table.columns}
    assert table.title == "Chỉ số 2023-10, tính đến 17:00 ngày 31/10/2023"
    assert (cells["Kỳ trước chuyển qua"], cells["Tiếp nhận"]) == ("1", "1.234")
    assert (cells["Đã giải quyết"], cells["Đang giải quyết"]) == ("1.228", "7")
    assert cells["Đúng hạn (trước và đúng hạn / có kết quả)"] == "57,1 % (700/1.225)"
    assert (cells["Đang giải quyết quá hạn"], cells["Trễ hạn"]) == ("3", "528")


@pytest.mark.parametrize(
    ("value", "written"), [(57.14, "57,1 %"), (100.0, "100,0 %"), (0.0, "0,0 %"), (1234.5, "1.234,5 %"), (None, "–")]
)
def test_percentages_are_written_the_vi_vn_way(value: float | None, written: str) -> None:
    assert percent(value) == written


def test_counts_and_stamps_are_written_the_vi_vn_way() -> None:
    assert (number(0), number(999), number(1234567), number(None)) == ("0", "999", "1.234.567", "–")
    assert as_of_text(datetime(2023, 10, 31, 17, 0, tzinfo=VN_TZ)) == "tính đến 17:00 ngày 31/10/2023"
    assert as_of_text(datetime.combine(date(2023, 10, 31), time.max, tzinfo=VN_TZ)) == "tính đến 24:00 ngày 31/10/2023"
