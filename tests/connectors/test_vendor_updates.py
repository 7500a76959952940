"""Write-back by profile (#22, point 1 / Done-when 1): ``requests.update`` shapes a status update like every other
request — a flat SOAP request for Phương Nam, a JSON body for Bạch Đằng's ``PUT /dossiers/{id}/status`` — in the
vendor's element names, nesting, formats and status words; a vendor refusal shows its code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import RemoteRejected, RemoteUnavailable
from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError
from foundation.topology import Topology, load
from mappings.vendor_updates import EXPECTED_VERSION, update_request
from mappings.vendors import FIELD_VENDORS_DIR, VENDORS_DIR, load_profile
from simulators.server import Simulators
from systems import registry
from tests.conftest import TOPOLOGIES

SYSTEMS = ("MOTCUA_QUANGNAM", "MOTCUA_TAMKY", "MOTCUA_HOIAN")
AT = datetime(2023, 10, 4, 23, 30, tzinfo=VN_TZ)  # late evening in Vietnam: the previous day in UTC


def _update(code: str, status: int, **extra: Any) -> dict[str, Any]:
    """An update in the default contract's shape, as the hub's mapping makes it (one new progress entry)."""
    step = {"NguoiXuLy": "Trần Văn Bình", "ThoiDiem": AT, "NoiDung": "Trả kết quả", "TrangThai": status}
    return {
        "MaDonVi": "502",
        "MaHoSo": code,
        "TrangThai": status,
        "PhienBanNguon": 7,
        "DanhSachTienDo": {"TienDo": [step]},
        **extra,
    }


def test_a_flat_update_takes_the_vendors_names_formats_and_status_words() -> None:
    vendor = load_profile(FIELD_VENDORS_DIR / "phuongnam.yaml")
    body = update_request(_update("X-1", 10, **{EXPECTED_VERSION: 3}), vendor, unit_code="502")
    assert body == {
        "soHoSo": "X-1",
        "tinhTrang": "DA_TRA_KET_QUA",
        "ghiChu": "Trả kết quả",
        "canBoXuLy": "Trần Văn Bình",
        "thoiDiem": "04/10/2023 23:30:00",
        "lanSuaHienTai": 3,
    }


def test_a_json_update_body_is_nested_and_in_utc() -> None:
    body = update_request(_update("X-1", 9), load_profile(FIELD_VENDORS_DIR / "bachdang.yaml"), unit_code="20311")
    assert body == {
        "dossierId": "X-1",
        "state": "READY",
        "step": {"action": "Trả kết quả", "officer": "Trần Văn Bình", "at": "2023-10-04T16:30:00Z"},
    }


def test_the_default_contract_gets_the_update_record_without_the_revision_read() -> None:
    body = update_request(_update("X-1", 4, **{EXPECTED_VERSION: 3}), load_profile(VENDORS_DIR / "default.yaml"),
                          unit_code="20965")  # fmt: skip
    assert EXPECTED_VERSION not in body and body["MaHoSo"] == "X-1" and body["TrangThai"] == 4


@pytest.fixture(scope="module")
def world(
    start_simulators: type[Simulators], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Simulators, Topology]]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"), seed=9, dossiers=120) as sims:
        yield sims, load(sims.topology_file(tmp_path_factory.mktemp("updates") / "topology.yaml"))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for ref in SYSTEMS:
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_PASSWORD", "hub-secret")


def _open(sims: Simulators, unit: str) -> str:
    """A dossier of ``unit`` still being processed (status 4)."""
    for record in sims.store.records(unit):
        if record.TrangThai == 4:
            return record.MaHoSo
    raise AssertionError(f"no dossier in processing at {unit}")


def test_phuong_nams_flat_update_sets_the_status_and_records_the_step(world: Any) -> None:
    sims, topology = world
    code = _open(sims, "502")
    connector = registry.build_target(topology.systems["motcua-tamky"])
    [result] = connector.push_dossiers("502", [_update(code, 9)])
    assert result.ok and result.created
    copy = sims.source_copy("502", code)
    assert copy.TrangThai == 9
    assert (copy.DanhSachTienDo[-1].NguoiXuLy, copy.DanhSachTienDo[-1].NoiDung) == ("Trần Văn Bình", "Trả kết quả")


def test_phuong_nams_update_is_refused_and_retried_when_the_copy_changed_since_it_was_read(world: Any) -> None:
    sims, topology = world
    code = _open(sims, "502")
    read = sims.source_copy("502", code).PhienBan
    sims.store.apply_update("502", code, 5, 0, None, [], AT)  # the owner decides meanwhile: revision read + 1
    connector = registry.build_target(topology.systems["motcua-tamky"])
    with pytest.raises(RemoteUnavailable) as caught:
        connector.push_dossiers("502", [_update(code, 4, **{EXPECTED_VERSION: read})])
    assert "PN-409" in caught.value.message
    assert sims.source_copy("502", code).TrangThai == 5  # the owner's decision stands


def test_a_vendor_refusal_shows_its_code(world: Any) -> None:
    sims, topology = world
    connector = registry.build_target(topology.systems["motcua-tamky"])
    [result] = connector.push_dossiers("502", [_update(_open(sims, "502"), 99)])  # no such status: refused
    assert isinstance(result.error, RemoteRejected)
    assert "(mã PN-422)" in result.error.message and "(mã )" not in result.error.message


def test_bach_dangs_put_status_sets_the_status_of_its_copy(world: Any) -> None:
    sims, topology = world
    code = _open(sims, "503")
    connector = registry.build_target(topology.systems["motcua-hoian"])
    assert registry.kind_of(topology.systems["motcua-hoian"]).receives_updates(topology.systems["motcua-hoian"])
    [result] = connector.push_dossiers("503", [_update(code, 9)])
    assert result.ok and result.created
    copy = sims.source_copy("503", code)
    assert copy.TrangThai == 9 and copy.DanhSachTienDo[-1].ThoiDiem == AT


def test_a_profile_with_a_flat_update_but_no_status_element_is_refused(tmp_path: Path) -> None:
    text = (FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8").replace("    status: tinhTrang\n", "")
    path = tmp_path / "no-status.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"requests\.update with code needs status"):
        load_profile(path)
