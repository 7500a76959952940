"""The daily late-dossier scan over the hub's dossiers table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from foundation.clock import VN_TZ
from hub.store.db import Database
from hub.store.models import Dossier, LateDossier
from mappings.canonical import Dossier as CanonicalDossier
from mappings.codes import Status
from schedules.late import is_late, scan

TODAY = date(2026, 11, 26)


def _vn(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=VN_TZ)


def _dossier(n: int, status: Status, appointment: datetime | None, finished: datetime | None = None) -> Dossier:
    return Dossier(
        code=f"000.00.17.H47-261101-{n:04d}",
        receiving_unit="517",
        processing_unit=None,
        local_procedure_code="NT-01",
        national_procedure_code="1.001234",
        status=int(status),
        version=1,
        content_hash="0" * 64,
        source_updated_at=_vn(1),
        received_at=_vn(1),
        appointment_at=appointment,
        finished_at=finished,
        data={},
    )


def test_the_scan_records_open_and_finished_late_dossiers_by_vietnam_day(db: Database) -> None:
    with db.session() as session:
        session.add_all(
            [
                _dossier(1, Status.PROCESSING, _vn(20)),  # open, six days past
                _dossier(2, Status.PROCESSING, _vn(26, 8)),  # due today: not late yet
                _dossier(3, Status.RETURNED, _vn(20), finished=_vn(23)),  # finished three days late
                _dossier(4, Status.RETURNED, _vn(20, 9), finished=_vn(20, 17)),  # same day: on time
                _dossier(5, Status.REFUSED, _vn(10)),  # refused at intake, never finished: not late
                _dossier(6, Status.PROCESSING, None),  # no appointment: cannot be late
                # 23:30 and 00:30 in Hà Nội are the same UTC day but different Vietnamese days
                _dossier(7, Status.RETURNED, _vn(25, 23).replace(minute=30), finished=_vn(26, 0).replace(minute=30)),
            ]
        )
    result = scan(db, TODAY)
    assert (result.late, result.new, result.cleared) == (3, 3, 0)
    with db.session() as session:
        rows = {r.dossier_code[-4:]: r for r in session.scalars(select(LateDossier))}
    assert set(rows) == {"0001", "0003", "0007"}
    assert rows["0001"].days_late == 6 and rows["0001"].finished_on is None
    assert rows["0003"].days_late == 3 and rows["0003"].finished_on == date(2026, 11, 23)
    assert rows["0007"].days_late == 1
    assert rows["0001"].unit_code == "517" and rows["0001"].procedure_code == "1.001234"


def test_a_rescan_keeps_first_detection_and_clears_dossiers_no_longer_late(db: Database) -> None:
    with db.session() as session:
        session.add_all([_dossier(1, Status.PROCESSING, _vn(20)), _dossier(2, Status.PROCESSING, _vn(21))])
    scan(db, TODAY)
    with db.session() as session:
        first = session.get(LateDossier, "000.00.17.H47-261101-0001")
        assert first is not None
        detected = first.detected_at
        # an apology moved dossier 2's appointment to next week
        moved = session.get(Dossier, "000.00.17.H47-261101-0002")
        assert moved is not None
        moved.appointment_at = _vn(30)
    result = scan(db, TODAY + timedelta(days=1))
    assert (result.late, result.new, result.cleared) == (1, 0, 1)
    with db.session() as session:
        [row] = session.scalars(select(LateDossier)).all()
    assert row.detected_at == detected
    assert row.days_late == 7


statuses = st.sampled_from(list(Status))
moments = st.datetimes(
    min_value=datetime(2026, 11, 1),  # noqa: DTZ001 - hypothesis attaches the timezone
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=200)
@given(status=statuses, appointment=st.none() | moments, finished=st.none() | moments)
def test_the_row_rule_is_the_canonical_rule(
    status: Status, appointment: datetime | None, finished: datetime | None
) -> None:
    row = _dossier(1, status, appointment, finished)
    fields = {"status": status, "appointment_at": appointment, "finished_at": finished}
    canonical = CanonicalDossier.model_validate(
        {
            "code": row.code,
            "receiving_unit": "517",
            "local_procedure_code": "NT-01",
            "procedure_name": "Thủ tục",
            "channel": 1,
            "applicant": {"name": "Nguyễn Văn A"},
            "version": 1,
            "updated_at": _vn(1),
            **fields,
        }
    )
    assert is_late(row, TODAY) == canonical.is_late(TODAY)
