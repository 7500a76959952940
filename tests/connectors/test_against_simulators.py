"""The connectors against the running simulators (in-process, ephemeral ports): all three portal variants and the
one-stop-shop SOAP service, with expiring sessions and tokens, 429 with Retry-After, errors inside a 200 answer and
a service that hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from connectors.base import ChangeRef
from connectors.errors import RateLimited, RemoteRejected, RemoteTimeout, RemoteUnavailable
from connectors.recording import ExchangeLog
from foundation.clock import VN_TZ
from foundation.topology import System, load
from hub import catalogue
from hub.store.db import Database
from simulators.server import Simulators
from systems import registry
from systems.dvcqg import catalogue as dvcqg_catalogue
from systems.dvcqg.connector import DvcqgConnector
from tests.conftest import TOPOLOGIES


@pytest.fixture(scope="module")
def sims(start_simulators: type[Simulators]) -> Iterator[Simulators]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=7, dossiers=30) as running:
        yield running


@pytest.fixture(autouse=True)
def _creds(monkeypatch: pytest.MonkeyPatch, sims: Simulators) -> Iterator[None]:
    for ref in ("motcua", "dvcqg"):
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref.upper()}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref.upper()}_PASSWORD", "hub-secret")
    sims.clear_faults()
    yield
    sims.clear_faults()


def _portal(sims: Simulators, kind: str, path: str, **options: Any) -> System:
    return System(
        name=f"dvcqg-{path}",
        kind=kind,
        base_url=f"{sims.portal_url}/{path}",
        credentials="dvcqg",
        batch_size=5,
        timeout=5,
        options=options,
    )


def _soap(sims: Simulators, **options: Any) -> System:
    return System(name="motcua", kind="soap", base_url=sims.soap_url, credentials="motcua", timeout=5, options=options)


_counter = iter(range(1, 10_000))


def _record(sims: Simulators, **fields: Any) -> dict[str, Any]:
    procedure = sims.catalogue.procedures[0]
    n = next(_counter)
    return {
        "MaHoSo": f"000.00.17.H47-231002-{n:04d}",
        "MaTTHC": procedure.national_code,
        "TenTTHC": procedure.name,
        "ChuHoSo": "Nguyễn Văn An",
        "KenhThucHien": "2",
        "TrangThaiHoSo": "2",
        "NgayTiepNhan": "20231002081500",
        **fields,
    }


# ── one-stop-shop SOAP ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("digest", [False, True], ids=["PasswordText", "PasswordDigest"])
def test_soap_feed_dossiers_and_updates(sims: Simulators, digest: bool) -> None:
    log = ExchangeLog()
    source = registry.build_source(_soap(sims, password_digest=digest, page_size=7), recorder=log)
    unit = next(iter(sims.source_state().values())).MaDonViTiepNhan
    refs: list[ChangeRef] = []
    token: str | None = None
    pages = 0
    while True:
        page = source.fetch_changes(unit, datetime(2020, 1, 1, tzinfo=VN_TZ), token)
        refs.extend(page.items)
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert refs and pages >= 1
    record = source.get_dossier(unit, refs[0].dossier_code)
    assert record["MaHoSo"] == refs[0].dossier_code and record["PhienBan"] == refs[0].version
    assert "ChuHoSo" in record and "hub-secret" not in str(log.take())
    target = registry.build_target(_soap(sims, password_digest=digest, page_size=7))
    result = target.push_dossiers(
        unit,
        [
            {
                "MaHoSo": record["MaHoSo"],
                "TrangThai": record["TrangThai"],
                "PhienBanNguon": 1,
                "DanhSachTienDo": {"TienDo": []},
            }
        ],
    )
    assert result[0].ok
    assert target.lookup(unit, "000.00.17.H47-200101-9999") is None  # NOT_FOUND fault → not there


def test_soap_server_fault_is_retryable_and_a_hang_times_out(sims: Simulators) -> None:
    source = registry.build_source(_soap(sims))
    unit = next(iter(sims.source_state().values())).MaDonViTiepNhan
    sims.set_fault("soap", soap_fault_rate=1.0, times=1)
    with pytest.raises(RemoteUnavailable):
        source.fetch_changes(unit, datetime(2020, 1, 1, tzinfo=VN_TZ))
    sims.set_fault("soap", hang_rate=1.0, hang_seconds=5, times=1)
    quick = registry.build_source(_soap(sims, connect_timeout=1).model_copy(update={"timeout": 0.5}))
    started = time.monotonic()
    with pytest.raises(RemoteTimeout):
        quick.fetch_changes(unit, datetime(2020, 1, 1, tzinfo=VN_TZ))
    assert time.monotonic() - started < 1.5


# ── national portal: three variants ─────────────────────────────────────────────────────────────────────────


VARIANTS = [
    ("dvcqg-session", "dvcqg"),
    ("dvcqg-url", "api"),
    ("dvcqg-lgsp", "lgsp"),
]


@pytest.mark.parametrize(("kind", "path"), VARIANTS, ids=[p for _, p in VARIANTS])
def test_portal_upsert_is_idempotent_and_refusals_are_per_record(sims: Simulators, kind: str, path: str) -> None:
    target = registry.build_target(_portal(sims, kind, path))
    good = [_record(sims) for _ in range(6)]
    bad = _record(sims, MaTTHC="9.999999")
    first = target.push_dossiers("517", [*good[:3], bad, *good[3:]])
    assert [r.ok for r in first] == [True, True, True, False, True, True, True]
    refused = first[3].error
    assert isinstance(refused, RemoteRejected) and refused.error_code == "21"
    assert refused.remote_message is not None and "không tồn tại" in refused.remote_message  # verbatim
    assert all(r.created for i, r in enumerate(first) if i != 3)
    # Pushing the same records again updates them ("đã tồn tại" → update for the URL-per-operation variant)
    changed = [{**r, "TrangThaiHoSo": "4"} for r in good]
    again = target.push_dossiers("517", changed)
    assert all(r.ok and not r.created for r in again)
    assert target.lookup("517", good[0]["MaHoSo"]) is not None or kind == "dvcqg-url"
    progress = [
        {
            "MaHoSo": good[0]["MaHoSo"],
            "NguoiXuLy": "Cán bộ",
            "ThoiDiemXuLy": f"2023100209{i:02d}00",
            "NoiDungXuLy": f"Bước {i}",
            "TrangThai": "4",
        }
        for i in range(12)
    ]
    assert all(r.ok for r in target.push_progress("517", progress))
    stats = sims.portal_stats()
    assert not [d for d in stats.get("duplicates", []) if d.get("MaHoSo") in {r["MaHoSo"] for r in good}]


@pytest.mark.parametrize(("kind", "path"), [VARIANTS[0], VARIANTS[2]], ids=["dvcqg", "lgsp"])
def test_sessions_and_tokens_expiring_mid_run_are_renewed(sims: Simulators, kind: str, path: str) -> None:
    log = ExchangeLog()
    target = registry.build_target(_portal(sims, kind, path), recorder=log)
    assert target.push_dossiers("517", [_record(sims)])[0].ok
    sims.expire_sessions()
    assert target.push_dossiers("517", [_record(sims)])[0].ok
    operations = [e.operation for e in log.take()]
    assert operations.count("login") == 2
    if kind == "dvcqg-lgsp":
        assert operations.count("token") == 2  # the bearer token was refreshed on 401


@pytest.mark.parametrize(("kind", "path"), VARIANTS, ids=[p for _, p in VARIANTS])
def test_429_honours_retry_after_and_an_error_inside_200_is_classified(sims: Simulators, kind: str, path: str) -> None:
    target = registry.build_target(_portal(sims, kind, path))
    fault_endpoint = "dvcqg" if kind != "dvcqg-url" else "api"
    sims.set_fault(fault_endpoint, rate_limit_rate=1.0, retry_after=3, times=1)
    with pytest.raises(RateLimited) as caught:
        target.push_dossiers("517", [_record(sims)])
    assert caught.value.retry_after == 3
    sims.clear_faults()
    sims.set_fault(fault_endpoint, error_in_200_rate=1.0, times=1)
    with pytest.raises(RemoteUnavailable):  # error_code 99: the portal's own failure, inside an HTTP 200
        target.push_dossiers("517", [_record(sims)])
    sims.clear_faults()
    assert target.push_dossiers("517", [_record(sims)])[0].ok


def test_catalogue_calls(sims: Simulators) -> None:
    portal = registry.build_target(_portal(sims, "dvcqg-session", "dvcqg"))
    assert isinstance(portal, DvcqgConnector)  # the catalogue calls are the portal connector's own
    national = sims.catalogue.procedures[0].national_code
    found = portal.procedure(national, "517")
    assert found is not None
    assert len(portal.procedures("517")) >= 1
    agencies = portal.agencies("517")
    assert {"000.00.17.H47", "000.01.17.H47"} <= {a["MaCoQuan"] for a in agencies}
    assert all(a["TenCoQuan"] for a in agencies)


def test_the_nightly_unit_catalogue_refreshes_the_agencies_from_the_portal(sims: Simulators, db: Database) -> None:
    # daily:unit-catalogue failed every night: no portal connector offered LayDanhMucCoQuan.
    portal = registry.build_target(_portal(sims, "dvcqg-session", "dvcqg"))
    result = catalogue.refresh(db, "agencies", dvcqg_catalogue.read(portal, "agencies"))
    assert result.added >= 2 and result.deactivated == 0
    with db.session() as session:
        agency = session.get(catalogue.CatalogueAgency, "000.00.17.H47")
    assert agency is not None and agency.active and agency.name


def test_breaker_opens_on_a_failing_portal(sims: Simulators) -> None:
    system = _portal(sims, "dvcqg-session", "dvcqg", breaker_failures=2, breaker_cooldown=60)
    target = registry.build_target(system)
    target.push_dossiers("517", [_record(sims)])  # logged in while the portal is well
    sims.set_fault("dvcqg", error_rate=1.0, error_status=503)
    for _ in range(2):
        with pytest.raises(RemoteUnavailable):
            target.push_dossiers("517", [_record(sims)])
    with pytest.raises(RemoteUnavailable, match="circuit open"):
        target.push_dossiers("517", [_record(sims)])
    [status] = [s for s in registry.breaker_snapshot() if s.endpoint == system.name]
    assert status.state == "open" and status.retry_in is not None and status.retry_in > timedelta(0).total_seconds()


def test_a_caller_that_just_looked_up_spares_the_portal_a_second_look_up(sims: Simulators) -> None:
    log = ExchangeLog()
    target = registry.build_target(_portal(sims, "dvcqg-session", "dvcqg"), recorder=log)
    fresh, known = _record(sims), _record(sims)
    assert target.push_dossiers("517", [known])[0].created
    log.take()

    results = target.push_dossiers("517", [fresh, {**known, "TrangThaiHoSo": "4"}], existing={known["MaHoSo"]})

    assert [(r.ok, r.created) for r in results] == [(True, True), (True, False)]
    operations = [e.operation for e in log.take()]
    assert "TraCuuHoSo" not in operations
    assert sims.portal_dossiers()[known["MaHoSo"]]["TrangThaiHoSo"] == "4"
