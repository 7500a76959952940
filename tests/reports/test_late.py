"""The daily late-dossier scan stores the reports' register: one rule of lateness for the console and the reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from foundation.topology import load
from hub.store.db import Database
from reports.late import scan
from reports.models import LateDossier
from reports.periods import parse_period
from reports.rules import Rules
from reports.service import Reports
from tests.conftest import TOPOLOGIES
from tests.reports import cases

QUANG_NAM = load(TOPOLOGIES / "quang-nam-2023.yaml")
DA_NANG = load(TOPOLOGIES / "da-nang-2025.yaml")


def _stored(db: Database) -> dict[str, LateDossier]:
    with db.session() as session:
        return {row.dossier_code: row for row in session.scalars(select(LateDossier))}


def test_the_scan_stores_the_register_measured_against_the_first_appointment(db: Database) -> None:
    # Given October 2023's fixed set: late open and finished dossiers, and two whose appointment an apology moved
    cases.store(db, cases.facts(cases.QUANG_NAM))
    today = date(2023, 10, 31)

    result = scan(db, QUANG_NAM, Rules(), today)

    # Then the table holds exactly the register the reports show for the month, judged on that day
    register = Reports(db, QUANG_NAM, Rules()).late(parse_period("2023-10"), cases.at(today, 23)).rows
    rows = _stored(db)
    assert (result.late, result.new, result.cleared) == (len(register), len(register), 0)
    assert {code: (r.days_late, r.appointment_on, r.finished_on, r.unit_code) for code, r in rows.items()} == {
        r.dossier_code: (r.days_late, r.first_appointment, r.finished_on, r.unit.code) for r in register
    }
    # The extension moved the appointment to 30 October, after the first one had passed: still late, from the 18th
    extended = rows[cases.by_name(cases.QUANG_NAM, "extended after the deadline")]
    assert (extended.appointment_on, extended.days_late) == (date(2023, 10, 18), 13)
    # Finished on the 24th against a first appointment of the 16th, though the current one is the 25th
    assert rows[cases.by_name(cases.QUANG_NAM, "extended in time")].days_late == 8
    assert rows[cases.by_name(cases.QUANG_NAM, "appointment moved without apology")].days_late == 9
    assert cases.by_name(cases.QUANG_NAM, "refused") not in rows
    assert cases.by_name(cases.QUANG_NAM, "early") not in rows


def test_a_rescan_keeps_first_detection_and_clears_dossiers_no_longer_in_the_register(db: Database) -> None:
    cases.store(db, cases.facts(cases.QUANG_NAM))
    cases.polled(db, cases.at(date(2023, 11, 6), 23))  # the hub kept polling until the second scan
    scan(db, QUANG_NAM, Rules(), date(2023, 10, 31))
    open_late = cases.by_name(cases.QUANG_NAM, "late open, no apology")
    finished_late = cases.by_name(cases.QUANG_NAM, "late finished, no apology")
    detected = _stored(db)[open_late].detected_at

    # A month on, the dossier finished late in October has left the running month's register; the open one stays
    result = scan(db, QUANG_NAM, Rules(), date(2023, 11, 6))

    rows = _stored(db)
    assert finished_late not in rows and (result.late, result.new, result.cleared) == (2, 0, 3)
    assert rows[open_late].detected_at == detected
    assert rows[open_late].days_late == (date(2023, 11, 6) - date(2023, 10, 20)).days


def test_the_dossiers_of_merged_communes_are_late_for_their_successors(db: Database) -> None:
    cases.store(db, cases.facts(cases.DA_NANG))
    cases.polled(db, cases.at(date(2025, 7, 31), 23))

    scan(db, DA_NANG, Rules(), date(2025, 7, 31))

    rows = _stored(db)
    # Tam Xuân II's dossier, finished two days late, counts for Xã Tam Xuân, which reuses its code
    late_june = cases.by_name(cases.DA_NANG, "received by Tam Xuân II before the merger, late")
    assert (rows[late_june].unit_code, rows[late_june].days_late) == ("20971", 2)
    # Núi Thành district's dossier was extended in time but is past its first appointment (15 July): the city's
    extended = cases.by_name(cases.DA_NANG, "received by Núi Thành district, extended in time, still open")
    assert (rows[extended].unit_code, rows[extended].appointment_on, rows[extended].days_late) == (
        "48",
        date(2025, 7, 15),
        16,
    )
    assert cases.by_name(cases.DA_NANG, "received by Tam Quang before the merger, open on time") not in rows
