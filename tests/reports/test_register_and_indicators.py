"""Every indicator and register row of two small fixed sets of dossiers, on the three-level topology (October
2023) and across the July 2025 merger on the two-level one: the figures are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from foundation.topology import Level, Topology, load
from reports.indicators import Calculator, Indicators
from reports.periods import parse_period
from reports.places import Place, Placer
from reports.register import RegisterRow, register
from reports.rules import Rules
from tests.conftest import TOPOLOGIES
from tests.reports import cases
from tests.reports.cases import DA_NANG, DA_NANG_NOW, QUANG_NAM, QUANG_NAM_NOW, by_name

ZERO: dict[str, Any] = {
    "carried_over": 0, "received": 0, "finished_early": 0, "finished_on_time": 0, "finished_late": 0, "dropped": 0,
    "open_on_time": 0,
    "open_late": 0, "online": 0, "fully_online_received": 0, "fully_online_online": 0, "partly_online_received": 0,
    "partly_online_online": 0, "online_procedures": 0, "online_procedures_used": 0, "fee_bearing": 0,
    "paid_online": 0, "digitised": 0, "reused": 0, "electronic_results": 0, "portal_expected": 0,
    "portal_delivered": 0, "portal_current": 0, "portal_stale": 0, "portal_max_lag_hours": 0.0,
}  # fmt: skip


@pytest.fixture(scope="module")
def quang_nam() -> Topology:
    return load(TOPOLOGIES / "quang-nam-2023.yaml")


@pytest.fixture(scope="module")
def da_nang() -> Topology:
    return load(TOPOLOGIES / "da-nang-2025.yaml")


def counts(row: Indicators) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ZERO}


def rows_of(
    topology: Topology, period: str, set_: tuple[cases.Case, ...], now: Any
) -> dict[tuple[str, str], Indicators]:
    span = parse_period(period)
    placer = Placer(topology, min(span.end, now.date()))
    rows = Calculator(span, placer, Rules(), now, now).compute(cases.facts(set_))
    return {(r.scope, r.key): r for r in rows}


def test_october_2023_indicators_per_unit_level_and_province(quang_nam: Topology) -> None:
    rows = rows_of(quang_nam, "2023-10", QUANG_NAM, QUANG_NAM_NOW)

    assert set(rows) == {
        ("unit", "20968"), ("unit", "20971"), ("unit", "517"),
        ("level", "commune"), ("level", "district"), ("all", "all"),
    }  # fmt: skip
    # Tam Xuân I: early, on time, moved without apology (late), refused (dropped); online: early and refused.
    assert counts(rows["unit", "20968"]) == ZERO | {
        "received": 4, "finished_early": 1, "finished_on_time": 1, "finished_late": 1, "dropped": 1, "online": 2,
        "fully_online_received": 3, "fully_online_online": 2, "online_procedures": 2, "online_procedures_used": 2,
        "fee_bearing": 1, "paid_online": 1, "digitised": 2, "reused": 1, "electronic_results": 1,
        "portal_expected": 4, "portal_delivered": 4, "portal_current": 4,
    }  # fmt: skip
    # Tam Xuân II: late finished (portal copy behind since 3 Nov 00:00: 58 h at 5 Nov 10:00), extended after the
    # deadline (open, late), carried over from September (early, not received in October).
    assert counts(rows["unit", "20971"]) == ZERO | {
        "carried_over": 1, "received": 2, "finished_early": 1, "finished_late": 1, "open_late": 1, "online": 2,
        "fully_online_received": 1, "fully_online_online": 1, "partly_online_received": 1, "partly_online_online": 1,
        "online_procedures": 3, "online_procedures_used": 2, "fee_bearing": 1, "reused": 1,
        "portal_expected": 2, "portal_delivered": 2, "portal_current": 1, "portal_stale": 1,
        "portal_max_lag_hours": 58.0,
    }  # fmt: skip
    # Núi Thành district: late open never sent to the portal (since 5 Oct 09:00: 745 h), extended in time.
    assert counts(rows["unit", "517"]) == ZERO | {
        "received": 2, "finished_late": 1, "open_late": 1, "online": 1, "fully_online_received": 1,
        "fully_online_online": 1, "partly_online_received": 1, "online_procedures": 2, "online_procedures_used": 1,
        "digitised": 1, "electronic_results": 1, "portal_expected": 2, "portal_delivered": 1, "portal_current": 1,
        "portal_max_lag_hours": 745.0,
    }  # fmt: skip
    assert counts(rows["level", "district"]) == counts(rows["unit", "517"])
    assert counts(rows["level", "commune"]) == ZERO | {
        "carried_over": 1, "received": 6, "finished_early": 2, "finished_on_time": 1, "finished_late": 2,
        "dropped": 1, "open_late": 1, "online": 4,
        "fully_online_received": 4, "fully_online_online": 3, "partly_online_received": 1, "partly_online_online": 1,
        "online_procedures": 5, "online_procedures_used": 4, "fee_bearing": 2, "paid_online": 1, "digitised": 2,
        "reused": 2, "electronic_results": 1, "portal_expected": 6, "portal_delivered": 6, "portal_current": 5,
        "portal_stale": 1, "portal_max_lag_hours": 58.0,
    }  # fmt: skip
    province = rows["all", "all"]
    assert counts(province) == ZERO | {
        "carried_over": 1, "received": 8, "finished_early": 2, "finished_on_time": 1, "finished_late": 3,
        "dropped": 1, "open_late": 2, "online": 5,
        "fully_online_received": 5, "fully_online_online": 4, "partly_online_received": 2, "partly_online_online": 1,
        "online_procedures": 5, "online_procedures_used": 4, "fee_bearing": 2, "paid_online": 1, "digitised": 3,
        "reused": 2, "electronic_results": 2, "portal_expected": 8, "portal_delivered": 7, "portal_current": 6,
        "portal_stale": 1, "portal_max_lag_hours": 745.0,
    }  # fmt: skip
    # The dossiers reconcile: 1 carried over + 8 received = 7 solved (6 with a result, 1 refused) + 2 in progress.
    assert (province.to_process, province.solved, province.in_progress, province.late) == (9, 7, 2, 5)
    # The rates follow from the counts: 3 of 6 finished on time or early, 5 of 8 online, ...
    assert (province.finished_in_time, province.finished, province.on_time_rate) == (3, 6, 50.0)
    assert province.online_rate == 62.5
    assert (province.fully_online_rate, province.partly_online_rate) == (80.0, 50.0)
    assert (province.online_procedures_used_rate, province.online_payment_rate) == (80.0, 50.0)
    assert (province.digitisation_rate, province.reuse_rate, province.electronic_result_rate) == (37.5, 25.0, 33.3)
    assert province.sync_coverage == 87.5
    # Targets are configuration: 70% for communes (4 of 6 online: 66.7%), 90% for districts (1 of 2: 50%).
    commune = rows["level", "commune"]
    assert (commune.online_rate, commune.online_target, commune.meets_online_target) == (66.7, 70.0, False)
    assert rows["unit", "517"].online_target == 90.0
    assert rows["unit", "20968"].online_rate == 50.0


def test_online_targets_come_from_the_rules(quang_nam: Topology) -> None:
    span = parse_period("2023-10")
    rules = Rules(online_rate_targets={Level.COMMUNE: 60.0})
    rows = Calculator(span, Placer(quang_nam, span.end), rules, QUANG_NAM_NOW, QUANG_NAM_NOW).compute(
        cases.facts(QUANG_NAM)
    )
    commune = next(r for r in rows if r.scope == "level" and r.key == "commune")
    district = next(r for r in rows if r.scope == "level" and r.key == "district")
    assert (commune.meets_online_target, district.online_target, district.meets_online_target) == (True, None, None)


def _register(topology: Topology, period: str, set_: tuple[cases.Case, ...], now: Any) -> list[RegisterRow]:
    span = parse_period(period)
    judged = min(span.end, now.date())
    return register(cases.facts(set_), span.start, judged, Placer(topology, judged), Rules())


def test_october_2023_register_keeps_the_first_appointment_and_flags_every_breach(quang_nam: Topology) -> None:
    rows = _register(quang_nam, "2023-10", QUANG_NAM, QUANG_NAM_NOW)

    def code(name: str) -> str:
        return by_name(QUANG_NAM, name)

    summary = [
        (r.dossier_code, r.unit.code, r.first_appointment, r.current_appointment, r.finished_on, r.days_late,
         r.open, r.apologised, r.late_without_apology, r.apology_after_deadline, r.delay_unit, r.delay_step)
        for r in rows
    ]  # fmt: skip
    D = date
    assert summary == [
        (code("extended after the deadline"), "20971", D(2023, 10, 18), D(2023, 10, 30), None, 13,
         True, True, False, True, "20971", None),
        (code("late open, no apology"), "517", D(2023, 10, 20), D(2023, 10, 20), None, 11,
         True, False, True, False, "517", None),
        (code("appointment moved without apology"), "20968", D(2023, 10, 17), D(2023, 10, 27), D(2023, 10, 26), 9,
         False, False, True, False, "20968", None),
        (code("extended in time"), "517", D(2023, 10, 16), D(2023, 10, 25), D(2023, 10, 24), 8,
         False, True, False, False, "517", "Phòng Tài nguyên"),
        (code("late finished, no apology"), "20971", D(2023, 10, 11), D(2023, 10, 11), D(2023, 10, 16), 5,
         False, False, True, False, "20971", "Bộ phận địa chính"),
    ]  # fmt: skip
    after, in_time = rows[0].extensions, rows[3].extensions
    assert [(e.previous_appointment, e.new_appointment, e.in_time, e.unit_code, e.step, e.reason) for e in after] == [
        (D(2023, 10, 18), D(2023, 10, 30), False, "20971", "Bộ phận tư pháp", "Thiếu hồ sơ gốc")
    ]
    assert [(e.issued_at and e.issued_at.date(), e.in_time, e.unit_code, e.step) for e in in_time] == [
        (D(2023, 10, 13), True, "517", "Phòng Tài nguyên")
    ]
    # The register and the indicators count the same late dossiers.
    province = rows_of(quang_nam, "2023-10", QUANG_NAM, QUANG_NAM_NOW)["all", "all"]
    assert len(rows) == province.finished_late + province.open_late


def test_the_apology_margin_is_configuration(quang_nam: Topology) -> None:
    # Issued on 13 Oct for a 16 Oct appointment: in time with a 3-day margin, too late with a 4-day one.
    span = parse_period("2023-10")
    for margin, expected in ((3, True), (4, False)):
        rows = register(
            cases.facts(QUANG_NAM), span.start, span.end, Placer(quang_nam, span.end), Rules(apology_margin_days=margin)
        )
        row = next(r for r in rows if r.dossier_code == by_name(QUANG_NAM, "extended in time"))
        assert row.extensions[0].in_time is expected


def test_july_2025_rolls_merged_units_up_to_their_successors(da_nang: Topology) -> None:
    rows = rows_of(da_nang, "2025-07", DA_NANG, DA_NANG_NOW)

    # Tam Xuân I and II (June) and Xã Tam Xuân (July) count for Xã Tam Xuân; the district's for the city;
    # Tam Quang's for Xã Núi Thành. No district is left.
    assert set(rows) == {
        ("unit", "20971"), ("unit", "20965"), ("unit", "48"),
        ("level", "commune"), ("level", "province"), ("all", "all"),
    }  # fmt: skip
    assert rows["unit", "20971"].name == "Xã Tam Xuân"
    assert counts(rows["unit", "20971"]) == ZERO | {
        "carried_over": 2, "received": 1, "finished_early": 1, "finished_on_time": 1, "finished_late": 1, "online": 1,
        "partly_online_received": 1, "partly_online_online": 1, "online_procedures": 2, "online_procedures_used": 1,
        "fee_bearing": 1, "paid_online": 1, "portal_expected": 1, "portal_delivered": 1, "portal_current": 1,
    }  # fmt: skip
    assert counts(rows["unit", "48"]) == ZERO | {"carried_over": 1, "open_late": 1, "online_procedures": 1}
    assert counts(rows["unit", "20965"]) == ZERO | {
        "carried_over": 1, "received": 1, "open_on_time": 1, "open_late": 1, "online": 1, "fully_online_received": 1,
        "fully_online_online": 1, "online_procedures": 1, "online_procedures_used": 1,
        "portal_expected": 1, "portal_delivered": 1, "portal_current": 1,
    }  # fmt: skip
    assert counts(rows["level", "province"]) == counts(rows["unit", "48"])
    assert counts(rows["all", "all"]) == ZERO | {
        "carried_over": 4, "received": 2, "finished_early": 1, "finished_on_time": 1, "finished_late": 1,
        "open_on_time": 1, "open_late": 2, "online": 2, "fully_online_received": 1, "fully_online_online": 1,
        "partly_online_received": 1, "partly_online_online": 1, "online_procedures": 3, "online_procedures_used": 2,
        "fee_bearing": 1, "paid_online": 1, "portal_expected": 2, "portal_delivered": 2, "portal_current": 2,
    }  # fmt: skip


def test_june_2025_on_the_merged_topology_still_counts_the_old_units(da_nang: Topology) -> None:
    rows = rows_of(da_nang, "2025-06", DA_NANG, DA_NANG_NOW)

    assert {key for key in rows if key[0] == "unit"} == {
        ("unit", "20968"), ("unit", "20971"), ("unit", "517"), ("unit", "20998"),
    }  # fmt: skip
    assert rows["unit", "20971"].name == "Xã Tam Xuân II"
    assert {key for key in rows if key[0] == "level"} == {("level", "commune"), ("level", "district")}
    assert rows["all", "all"].received == 4


def test_july_2025_register_across_the_merger(da_nang: Topology) -> None:
    rows = _register(da_nang, "2025-07", DA_NANG, DA_NANG_NOW)

    def code(name: str) -> str:
        return by_name(DA_NANG, name)

    found = [(r.dossier_code, r.receiving_unit, r.unit.code, r.unit.ancestors, r.days_late, r.apologised) for r in rows]
    assert found == [
        (code("received by Núi Thành district, extended in time, still open"), "517", "48", (), 16, True),
        (code("received by Xã Núi Thành, late open, no apology"), "20965", "20965", ("48",), 11, False),
        (code("received by Tam Xuân II before the merger, late"), "20971", "20971", ("48",), 2, False),
    ]  # fmt: skip
    assert rows[0].extensions[0].in_time is True


def test_a_dossier_received_after_its_unit_was_merged_counts_for_the_successor(da_nang: Topology) -> None:
    # Submitted online to Tam Quang on 30 June, received on 1 July by Xã Núi Thành's officers: no unit 20998 exists
    # on the day of receipt; the dossier counts where Tam Quang's traffic went, and an unknown code on its own
    placer = Placer(da_nang, date(2025, 7, 31))
    place = placer.place("20998", date(2025, 7, 1))
    assert (place.code, place.name, place.ancestors) == ("20965", "Xã Núi Thành", ("48",))
    assert placer.place("99999", date(2025, 7, 1)) == Place("99999", "99999", None)


def test_a_dossier_refused_long_ago_no_longer_counts(quang_nam: Topology) -> None:
    # The October set's refused dossier (refused on 11 October) is in October's figures, not in November's.
    november = rows_of(quang_nam, "2023-11", QUANG_NAM, cases.at(date(2023, 11, 30), 10))
    october = rows_of(quang_nam, "2023-10", QUANG_NAM, QUANG_NAM_NOW)
    assert october["unit", "20968"].online_procedures == 2  # P1 and the refused dossier's P9
    assert november["unit", "20968"].online_procedures == 1  # P1, of the dossier received on 2 November
