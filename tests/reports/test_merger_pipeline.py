"""The July 2025 merger end to end on the Đà Nẵng topology (Done-when 4): dossiers received in June by communes that
were then merged keep their receiving unit and code, are updated afterwards by the successor's system, reach the
portal (and are not sent back to that system), reconcile with 0 missing and 0 mismatched, and count for the
successor units in July's indicators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import RawRecord
from foundation.clock import VN_TZ
from foundation.settings import Settings
from foundation.topology import load
from hub import procedures
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from hub.store.models import Delivery, Dossier
from hub.sync import request_poll
from reports.periods import parse_period
from reports.reconciliation import through_hub
from reports.rules import Rules
from reports.service import Reports
from systems.fake.connector import FakeConnector
from tests.conftest import TOPOLOGIES
from tests.hub.conftest import Hub, workers
from tests.hub.factories import progress, record

SOURCE = "motcua-danang"
NOW = datetime(2025, 7, 20, 9, 0, tzinfo=VN_TZ)
JUNE = datetime(2025, 6, 25, 8, 0, tzinfo=VN_TZ)
JULY = datetime(2025, 7, 3, 8, 0, tzinfo=VN_TZ)
# (code, receiving unit, the unit whose system now holds it, received, finished)
DOSSIERS = (
    ("000.02.17.H47-250625-0001", "20968", "20971", JUNE, JULY + timedelta(days=2)),  # Tam Xuân I → Xã Tam Xuân
    ("000.13.17.H47-250625-0001", "20998", "20965", JUNE, None),  # Tam Quang → Xã Núi Thành, still open
    ("000.00.62.H48-250703-0001", "20971", "20971", JULY, None),  # received by Xã Tam Xuân after the merger
    ("000.03.17.H47-250625-0001", "20971", "20971", JUNE, JULY),  # Tam Xuân II, whose code the new commune reuses
)


def dossier_record(code: str, unit: str, received: datetime, finished: datetime | None, version: int) -> RawRecord:
    rec: dict[str, Any] = record(code, unit=unit, version=version, status=9 if finished else 4)
    rec.update(
        NgayNop=received,
        NgayTiepNhan=received,
        NgayHenTra=received + timedelta(days=10),
        NgayKetThucXuLy=finished,
        NgayCapNhat=(finished or received) + timedelta(hours=version),
        DanhSachTienDo={"TienDo": [progress(2, received, "Tiếp nhận hồ sơ", unit)]},
    )
    return rec


@pytest.fixture
def hub(db: Database) -> Iterator[Hub]:
    settings = Settings(_env_file=None, database_url=db.url, retry_min_backoff_ms=20, retry_max_backoff_ms=200)
    topology = load(TOPOLOGIES / "da-nang-2025.yaml")
    source, portal = FakeConnector(SOURCE), FakeConnector("dvcqg")
    procedures.set_mapping(db, "NT-HT-001", "1.001193", field_code="HT", field_name="Hộ tịch", user="test")
    ctx = HubContext(
        settings=settings,
        db=db,
        topology=topology,
        connectors=ConnectorPool(topology, settings, prebuilt={SOURCE: source, "dvcqg": portal}),
        procedures=procedures.DbProcedureLookup(db),
        clock=lambda: NOW,
    )
    with workers(ctx):
        yield Hub(ctx, source, portal)


def test_dossiers_of_merged_communes_cross_1_july_2025_end_to_end(hub: Hub) -> None:
    # Given June dossiers of the old communes, now held by their successors' system, and a July one
    for code, unit, holder, received, finished in DOSSIERS:
        hub.source.put(holder, dossier_record(code, unit, received, None, 1), updated_at=received)
        if finished is not None:
            hub.source.put(holder, dossier_record(code, unit, received, finished, 2), updated_at=finished)

    # When the hub polls the two new communes
    for holder in ("20971", "20965"):
        request_poll(hub.db, SOURCE, holder, reason="test")
    hub.drain()

    # Then every dossier keeps its receiving unit and code and reached the portal, and none went back to the source
    with hub.db.session() as session:
        kept = {row.code: row.receiving_unit for row in session.scalars(select(Dossier))}
        targets = {t for (t,) in session.execute(select(Delivery.target))}
    assert kept == {code: unit for code, unit, *_ in DOSSIERS}
    assert all(hub.portal.lookup(holder, code) is not None for code, _, holder, *_ in DOSSIERS)
    assert {t.split("#", 1)[0] for t in targets} == {"dvcqg"}  # its record, intent and progress keys: the portal only
    assert not [c for c in hub.source.calls if c.operation == "push_dossiers"]

    # And reconciliation through the connectors finds nothing missing or mismatched
    reconciler = through_hub(hub.ctx, SOURCE)
    for holder, listed in (("20971", 3), ("20965", 1)):
        run = reconciler.run(holder, JUNE - timedelta(days=1), NOW)
        assert (run.listed, run.count("missing"), run.count("mismatched"), run.count("stale")) == (listed, 0, 0, 0)

    # And July's indicators count the merged communes' dossiers for their successors, under the city
    report = Reports(hub.db, hub.ctx.topology, Rules()).indicators(parse_period("2025-07"), NOW)
    units = {r.key: r for r in report.rows if r.scope == "unit"}
    assert set(units) == {"20971", "20965"}
    assert (units["20971"].name, units["20971"].received, units["20971"].finished) == ("Xã Tam Xuân", 1, 2)
    # Tam Quang's June dossier, still open, is carried over into July for Xã Núi Thành. The store's newest news is
    # from 5 July (its polls since found nothing newer), so July is judged then: due that day, not yet late.
    assert report.as_of_text.startswith("tính đến ") and report.as_of_text.endswith(" ngày 05/07/2025")
    assert (units["20965"].name, units["20965"].received, units["20965"].carried_over) == ("Xã Núi Thành", 0, 1)
    assert (units["20965"].open_on_time, units["20965"].open_late) == (1, 0)
    assert {r.key for r in report.rows if r.scope == "level"} == {"commune"}
    june = Reports(hub.db, hub.ctx.topology, Rules()).indicators(parse_period("2025-06"), NOW)
    assert {r.key for r in june.rows if r.scope == "unit"} == {"20968", "20998", "20971"}


def test_the_successors_copy_of_a_merged_units_dossier_is_the_authoritative_one(hub: Hub) -> None:
    # Given a June dossier of Tam Quang, merged into Xã Núi Thành, whose system now holds it and processes it
    code, unit, holder = "000.13.17.H47-250625-0001", "20998", "20965"
    steps = [progress(2, JUNE, "Tiếp nhận hồ sơ", unit)]
    statuses = []
    # When the successor asks for a payment (4 -> 6), with a progress entry, and then the citizen pays (6 -> 4)
    for version, status, note in ((1, 4, None), (2, 6, "Thông báo nghĩa vụ tài chính"), (3, 4, "Đã nộp phí")):
        at = JULY + timedelta(days=version)
        if note is not None:
            steps.append(progress(status, at, note, holder))
        rec = dossier_record(code, unit, JUNE, None, version)
        rec.update(TrangThai=status, NgayCapNhat=at, DanhSachTienDo={"TienDo": list(steps)})
        hub.source.put(holder, rec, updated_at=at)
        request_poll(hub.db, SOURCE, holder, reason="test")
        hub.drain()
        with hub.db.session() as session:
            row = session.get(Dossier, code)
            assert row is not None
            statuses.append((row.status, str(hub.portal.lookup(holder, code)["TrangThaiHoSo"])))  # type: ignore[index]

    # Then each status the successor's copy says is the hub's and the portal's: it is the owner's copy, not a
    # receiver's lagging one
    assert statuses == [(4, "4"), (6, "6"), (4, "4")]
