"""The national-portal simulator: validates like the portal, three transports, and an inspection that counts pushes."""

from __future__ import annotations

import time

import pytest
import requests

from foundation.topology import Topology
from simulators.server import Simulators


def record(sims: Simulators, **changes: object) -> dict[str, object]:
    procedure = sims.catalogue.procedures[0]
    base: dict[str, object] = {
        "MaHoSo": "000.00.17.H47-231002-0999",
        "MaTTHC": procedure.national_code,
        "TenTTHC": procedure.name,
        "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": "1",
        "KenhThucHien": "2",
        "TrangThaiHoSo": "2",
        "NgayTiepNhan": "20231002081500",
        "NgayHenTra": "20231009170000",
        "TrichYeuHoSo": "Cấp phép",
    }
    return {**base, **changes}


def call(sims: Simulators, service: str, **params: object) -> dict[str, object]:
    session = requests.post(
        f"{sims.portal_url}/dvcqg/auth",
        json={"username": "hub", "password": "hub-secret"},
        headers={"dstcode": "517"},
        timeout=5,
    ).json()["session"]
    body = {"session": session, "madonvi": "517", "service": service, **params}
    reply: dict[str, object] = requests.post(f"{sims.portal_url}/dvcqg/integration", json=body, timeout=5).json()
    return reply


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"MaTTHC": "9.999999"}, "21", "mã thủ tục"),
        ({"NgayTiepNhan": "2023-10-02 08:15"}, "22", "yyyyMMddHHmmss"),
        ({"NgayHenTra": "20231332170000"}, "22", "yyyyMMddHHmmss"),
        ({"TrangThaiHoSo": "11"}, "23", "trạng thái"),
        ({"ChuHoSo": ""}, "20", "thiếu trường bắt buộc ChuHoSo"),
    ],
)
def test_the_portal_refuses_bad_records_in_vietnamese(
    sims: Simulators, changes: dict[str, object], code: str, words: str
) -> None:
    reply = call(
        sims, "DongBoHoSoMC", isUpdating="False", data=[record(sims, MaHoSo="000.00.17.H47-231002-0998", **changes)]
    )
    assert reply["error_code"] == code and words in str(reply["message"])


def test_sync_flow_counts_pushes_by_content_version(sims: Simulators) -> None:
    sims.portal_state.reset()
    dossier = record(sims, PhienBanNguon=3)
    assert call(sims, "TraCuuHoSo", mahoso=dossier["MaHoSo"])["data"] is None
    assert call(sims, "DongBoHoSoMC", isUpdating="False", data=[dossier])["error_code"] == "0"
    again = call(sims, "DongBoHoSoMC", isUpdating="False", data=[dossier])
    assert again["error_code"] == "24" and "đã tồn tại" in str(again["message"])
    assert call(sims, "DongBoHoSoMC", isUpdating="True", data=[dossier])["error_code"] == "0"
    entries = [
        {
            "MaHoSo": dossier["MaHoSo"],
            "NguoiXuLy": "Lê Thị Hoa",
            "ThoiDiemXuLy": "20231002090000",
            "NoiDungXuLy": "Thẩm định",
            "TrangThai": "4",
        }
    ]
    assert call(sims, "CapNhatTienDoHoSoMC", data=entries)["error_code"] == "0"
    assert call(sims, "CapNhatTienDoHoSoMC", data=entries * 11)["error_code"] == "26"
    stats = sims.portal_stats()
    assert stats["duplicates"] and stats["duplicates"][0]["count"] == 2  # the identical update counts as a repeat
    assert stats["source_duplicates"][0]["source_version"] == 3
    assert stats["progress"] == 1
    inspected = requests.get(f"{sims.portal_url}/inspect/dossiers/{dossier['MaHoSo']}", timeout=5).json()
    assert inspected["record"]["MaTTHC"] == dossier["MaTTHC"] and len(inspected["history"]) == 2


def test_url_per_operation_and_the_lgsp_gateway(sims: Simulators) -> None:
    sims.portal_state.reset()
    dossier = record(sims)
    create = f"{sims.portal_url}/api/hoso/create"
    assert requests.post(create, json=[dossier], timeout=5).status_code == 401
    assert requests.post(create, json=[dossier], auth=("hub", "hub-secret"), timeout=5).json()["error_code"] == "0"
    again = requests.post(create, json=[dossier], auth=("hub", "hub-secret"), timeout=5).json()
    assert "đã tồn tại" in again["message"]
    token = requests.post(
        f"{sims.portal_url}/lgsp/token",
        data={"grant_type": "client_credentials"},
        auth=("hub", "hub-secret"),
        timeout=5,
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    communes = requests.get(
        f"{sims.portal_url}/lgsp/danhmuc/donvi", params={"cap": "XA", "cha": "517"}, headers=headers, timeout=5
    ).json()["data"]
    assert len(communes) == 17
    proxied = requests.post(
        f"{sims.portal_url}/lgsp/dvcqg/auth",
        json={"username": "hub", "password": "hub-secret"},
        headers=headers,
        timeout=5,
    ).json()
    assert proxied["error_code"] == "0"
    assert requests.get(f"{sims.portal_url}/lgsp/danhmuc/donvi", timeout=5).status_code == 401


def test_sessions_and_tokens_expire_after_their_ttl(start_simulators: type[Simulators], topology: Topology) -> None:
    with start_simulators(topology, seed=1, session_ttl=0.2, token_ttl=0.2) as short:
        reply = call(short, "LayDanhSachTTHC")
        assert reply["error_code"] == "0" and len(reply["data"]) == 392  # type: ignore[arg-type]
        session = requests.post(
            f"{short.portal_url}/dvcqg/auth", json={"username": "hub", "password": "hub-secret"}, timeout=5
        ).json()["session"]
        token = requests.post(
            f"{short.portal_url}/lgsp/token",
            data={"grant_type": "client_credentials", "client_id": "hub", "client_secret": "hub-secret"},
            timeout=5,
        ).json()["access_token"]
        time.sleep(0.3)  # the session and token (0.2 s lifetime) must really expire: expiry is under test
        expired = requests.post(
            f"{short.portal_url}/dvcqg/integration", json={"session": session, "service": "LayDanhSachTTHC"}, timeout=5
        ).json()
        assert expired["error_code"] == "11" and "hết hạn" in expired["message"]
        gateway = requests.get(
            f"{short.portal_url}/lgsp/danhmuc/donvi", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert gateway.status_code == 401
