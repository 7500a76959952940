"""The daily jobs: catalogue refreshes through the portal connector, the runner's dispatch by job kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from foundation.errors import Action, ConfigurationError
from foundation.topology import load
from hub.store.db import Database
from hub.store.models import ScheduleTick
from schedules.catalogue import refresh_agencies, refresh_procedures
from schedules.claims import DatabaseClaims
from schedules.errors import CatalogueRecordInvalid
from schedules.models import CatalogueAgency, CatalogueProcedure
from schedules.plan import JobKind, JobSpec
from schedules.runner import HubRunner
from schedules.timing import Cron, Every
from tests.conftest import TOPOLOGIES


class Portal:
    """The portal connector's catalogue calls, answering what a test sets."""

    def __init__(self) -> None:
        self.procedure_list: list[dict[str, Any]] = []
        self.agency_list: list[dict[str, Any]] = []

    def procedures(self, unit_code: str | None = None, **params: Any) -> list[dict[str, Any]]:
        return list(self.procedure_list)

    def agencies(self, unit_code: str | None = None, **params: Any) -> list[dict[str, Any]]:
        return list(self.agency_list)


def _procedure(code: str, name: str = "Đăng ký khai sinh") -> dict[str, Any]:
    return {"MaTTHC": code, "TenTTHC": name, "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "MucDo": "4"}


def test_the_procedure_catalogue_is_upserted_and_unlisted_procedures_deactivated(db: Database) -> None:
    portal = Portal()
    portal.procedure_list = [_procedure("1.001193"), _procedure("1.000656", "Đăng ký kết hôn")]
    assert (r := refresh_procedures(db, portal)).seen == 2 and r.added == 2 and r.deactivated == 0
    portal.procedure_list = [_procedure("1.001193", "Đăng ký khai sinh (sửa đổi)"), _procedure("2.000001")]
    result = refresh_procedures(db, portal)
    assert (result.seen, result.added, result.deactivated) == (2, 1, 1)
    with db.session() as session:
        rows = {p.code: p for p in session.scalars(select(CatalogueProcedure))}
    assert rows["1.001193"].name == "Đăng ký khai sinh (sửa đổi)" and rows["1.001193"].active
    assert rows["1.000656"].active is False
    assert rows["2.000001"].field_code == "HT" and rows["2.000001"].level == "4"
    assert rows["2.000001"].data["TenLinhVuc"] == "Hộ tịch"


def test_an_empty_catalogue_answer_deactivates_nothing(db: Database) -> None:
    portal = Portal()
    portal.procedure_list = [_procedure("1.001193")]
    refresh_procedures(db, portal)
    portal.procedure_list = []
    assert refresh_procedures(db, portal).seen == 0
    with db.session() as session:
        assert session.get(CatalogueProcedure, "1.001193").active  # type: ignore[union-attr]


def test_a_catalogue_record_without_code_is_refused_with_its_position(db: Database) -> None:
    portal = Portal()
    portal.procedure_list = [_procedure("1.001193"), {"TenTTHC": "no code"}]
    with pytest.raises(CatalogueRecordInvalid, match="bản ghi thứ 1") as refused:
        refresh_procedures(db, portal)
    assert (refused.value.service, refused.value.index, refused.value.action) == ("LayDanhSachTTHC", 1, Action.PARK)


def test_the_agency_catalogue_reads_parents(db: Database) -> None:
    portal = Portal()
    portal.agency_list = [
        {"MaDonVi": "000.00.00.H47", "TenDonVi": "UBND tỉnh Quảng Nam", "CapDonVi": "TINH"},
        {"MaDonVi": "000.00.17.H47", "TenDonVi": "UBND huyện Núi Thành", "MaDonViCha": "000.00.00.H47"},
    ]
    assert refresh_agencies(db, portal).added == 2
    with db.session() as session:
        child = session.get(CatalogueAgency, "000.00.17.H47")
    assert child is not None and child.parent_code == "000.00.00.H47"


def test_a_portal_connector_without_an_agency_catalogue_says_so(db: Database) -> None:
    with pytest.raises(ConfigurationError, match="LayDanhMucCoQuan"):
        refresh_agencies(db, object())


def test_the_runner_enqueues_polls_with_their_tick_and_runs_the_daily_jobs(db: Database) -> None:
    asked: list[tuple[str, str, str]] = []

    def request_poll(db: Database, system: str, unit_code: str, *, reason: str) -> int:
        asked.append((system, unit_code, reason))
        return 41

    portal = Portal()
    portal.procedure_list = [_procedure("1.001193")]
    claims = DatabaseClaims(db)
    runner = HubRunner(
        db, claims, lambda: portal, request_poll=request_poll, topology=load(TOPOLOGIES / "quang-nam-2023.yaml")
    )
    tick = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    poll = JobSpec("poll:mc:49", JobKind.POLL, Every(60), system="mc", unit_code="49")
    assert runner(poll, tick) == "đã xếp hàng lượt đọc (poll enqueued): message 41"
    assert asked == [("mc", "49", "schedule 2026-11-26T04:00:00+00:00")]
    daily = Cron("0 2 * * *")
    assert "1 bản ghi" in runner(JobSpec("daily:procedure-catalogue", JobKind.PROCEDURE_CATALOGUE, daily), tick)
    assert "0 hồ sơ trễ hạn" in runner(JobSpec("daily:late-scan", JobKind.LATE_SCAN, daily), tick)
    claims.claim("poll:mc:49", tick - timedelta(days=8), "old", period=timedelta(minutes=1))
    claims.claim("poll:mc:49", tick - timedelta(days=1), "recent", period=timedelta(minutes=1))
    assert "1" in runner(JobSpec("daily:tick-prune", JobKind.TICK_PRUNE, daily), tick)
    assert "(sealed 0, personal payloads purged 0" in runner(
        JobSpec("daily:log-retention", JobKind.LOG_RETENTION, daily), tick
    )
    with db.session() as session:
        assert list(session.scalars(select(ScheduleTick.claimed_by))) == ["recent"]
