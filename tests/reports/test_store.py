"""The reports read from the hub's store what the fixed sets hold in memory: first appointments from the first
accepted version, portal deliveries, the period's window; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from structlog.testing import capture_logs

from foundation.topology import Topology, load
from hub.store.db import Database
from hub.store.models import Dossier as DossierRow
from mappings.codes import Status
from migrations import upgrade
from reports.indicators import Calculator
from reports.periods import parse_period
from reports.places import Placer
from reports.register import register
from reports.rules import Rules
from reports.service import LateFilter, Reports
from reports.store import known_until
from tests.conftest import TOPOLOGIES
from tests.reports import cases


@pytest.fixture
def store_db(any_db_url: str) -> Iterator[Database]:
    upgrade(any_db_url)
    database = Database(any_db_url)
    yield database
    database.dispose()


@pytest.mark.parametrize(
    ("topology_file", "set_", "now", "period"),
    [
        ("quang-nam-2023.yaml", cases.QUANG_NAM, cases.QUANG_NAM_NOW, "2023-10"),
        ("da-nang-2025.yaml", cases.DA_NANG, cases.DA_NANG_NOW, "2025-07"),
    ],
)
def test_reports_from_the_store_equal_the_reports_from_the_facts(
    store_db: Database, topology_file: str, set_: tuple[cases.Case, ...], now: object, period: str
) -> None:
    topology: Topology = load(TOPOLOGIES / topology_file)
    facts = cases.facts(set_)
    # Given the dossiers stored as the hub stores them (the current version's appointment is the moved one)
    cases.store(store_db, facts)
    span = parse_period(period)
    assert isinstance(now, type(cases.QUANG_NAM_NOW))

    # When the reports read the store
    reports = Reports(store_db, topology, Rules())
    late = reports.late(span, now)
    indicators = reports.indicators(span, now)

    # Then they are what the facts give, judged at the moment the store knows the world until
    as_of = reports.as_of(span, now)
    judged = as_of.date()
    placer = Placer(topology, judged)
    assert late.rows == register(facts, span.start, judged, placer, Rules())
    assert indicators.rows == Calculator(span, placer, Rules(), now, as_of).compute(facts)
    assert (late.judged_on, late.as_of, indicators.as_of) == (judged, as_of, as_of)


def test_the_register_filters_by_unit_state_and_breach(store_db: Database) -> None:
    cases.store(store_db, cases.facts(cases.QUANG_NAM))
    reports = Reports(store_db, load(TOPOLOGIES / "quang-nam-2023.yaml"), Rules())
    span, now = parse_period("2023-10"), cases.QUANG_NAM_NOW

    def codes(where: LateFilter) -> set[str]:
        return {r.dossier_code for r in reports.late(span, now, where).rows}

    def code(name: str) -> str:
        return cases.by_name(cases.QUANG_NAM, name)

    # The period's window leaves out what finished before it and what arrived after it, nothing else.
    loaded = {f.dossier.code for f in reports.facts(span)}
    everything = {f.dossier.code for f in cases.facts(cases.QUANG_NAM)}
    assert everything - loaded == {code("finished before the period"), code("received after the period")}
    # The district's register holds its communes' late dossiers too; a commune's only its own.
    assert codes(LateFilter(unit="517")) == {r.dossier_code for r in reports.late(span, now).rows}
    assert len(codes(LateFilter(unit="517"))) == 5
    assert codes(LateFilter(unit="20971")) == {code("late finished, no apology"), code("extended after the deadline")}
    assert codes(LateFilter(open=True)) == {code("late open, no apology"), code("extended after the deadline")}
    assert codes(LateFilter(apologised=True)) == {code("extended in time"), code("extended after the deadline")}
    assert codes(LateFilter(breaches_only=True)) == {
        code("late open, no apology"), code("late finished, no apology"), code("extended after the deadline"),
        code("appointment moved without apology"),
    }  # fmt: skip


def test_a_row_that_no_longer_validates_is_left_out_and_named_in_the_log(store_db: Database) -> None:
    facts = cases.facts(cases.QUANG_NAM)
    cases.store(store_db, facts)
    broken = cases.by_name(cases.QUANG_NAM, "early")
    with store_db.session() as session:
        row = session.get(DossierRow, broken)
        assert row is not None
        row.data = {**row.data, "channel": 9}
    reports = Reports(store_db, load(TOPOLOGIES / "quang-nam-2023.yaml"), Rules())

    with capture_logs() as logs:
        loaded = {f.dossier.code for f in reports.facts(parse_period("2023-10"))}

    assert broken not in loaded and len(loaded) == 8
    assert [(e["event"], e["dossier_code"]) for e in logs] == [("report_dossier_unreadable", broken)]


def test_the_store_knows_the_world_until_its_newest_change_and_the_quiet_polls_after_it(db: Database) -> None:
    now = cases.at(cases.D(2026, 12, 7), 21)
    # An empty store holds nothing back
    assert known_until(db, now) == now
    # Given a store whose newest change happened at 17:00 on 12 October 2023 at its source, and was accepted by the
    # hub at 10:00 on its own clock (another one: the demo's sources run on a simulated clock)
    newest = cases.Case("newest", "20968", cases.D(2023, 10, 12), None, Status.PROCESSING, cases.ONLINE, "P1",
                        changed_at=cases.at(cases.D(2023, 10, 12), 17))  # fmt: skip
    cases.store(db, [newest.facts(1)])
    with db.session() as session:
        session.execute(update(DossierRow).values(updated_at=cases.at(cases.D(2026, 12, 7), 10)))
    # Without a poll since, the store knows the world until that change
    assert known_until(db, now) == cases.at(cases.D(2023, 10, 12), 17)
    # A poll before the change was accepted says nothing about after it; one 90 minutes after it found nothing newer
    cases.polled(db, cases.at(cases.D(2026, 12, 7), 9))
    assert known_until(db, now) == cases.at(cases.D(2023, 10, 12), 17)
    cases.polled(db, cases.at(cases.D(2026, 12, 7), 10) + timedelta(minutes=90))
    assert known_until(db, now) == cases.at(cases.D(2023, 10, 12), 17) + timedelta(minutes=90)
    # and never past now
    assert known_until(db, cases.at(cases.D(2023, 10, 12), 18)) == cases.at(cases.D(2023, 10, 12), 18)
