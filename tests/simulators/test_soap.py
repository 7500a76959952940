"""Done-when 1: plain zeep (no hub code) uses the running one-stop-shop simulator; the XSD validates and is enforced."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
import xmlschema
import zeep
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from foundation.clock import VN_TZ
from simulators.server import Simulators
from simulators.soap import CONTRACTS

SINCE = datetime(2023, 9, 1, tzinfo=VN_TZ)


def client(sims: Simulators, password: str = "hub-secret", digest: bool = False) -> zeep.Client:  # noqa: S107
    return zeep.Client(sims.wsdl_url, wsse=UsernameToken("hub", password, use_digest=digest))  # type: ignore[no-untyped-call]


def test_the_xsd_and_the_wsdl_are_valid_contracts() -> None:
    schema = xmlschema.XMLSchema(str(CONTRACTS / "motcua.xsd"))
    assert {"LayChiTietHoSo", "LayDanhSachHoSoThayDoi", "CapNhatTrangThaiHoSo", "KiemTraKetNoi"} <= {
        e.local_name for e in schema.elements.values()
    }
    assert zeep.Client(str(CONTRACTS / "motcua.wsdl")).service._binding is not None  # type: ignore[no-untyped-call]


def test_zeep_calls_every_operation_with_text_and_digest_passwords(sims: Simulators) -> None:
    for digest in (False, True):
        soap = client(sims, digest=digest)
        assert soap.service.KiemTraKetNoi(MaDonVi="517").TrangThai == "OK"
        page = soap.service.LayDanhSachHoSoThayDoi(MaDonVi="517", TuNgay=SINCE, SoLuongToiDa=10)
        first = page.DanhSachThayDoi.ThayDoi[0]
        dossier = soap.service.LayChiTietHoSo(MaDonVi="517", MaHoSo=first.MaHoSo)
        assert dossier.MaHoSo == first.MaHoSo and dossier.PhienBan == first.PhienBan
    assert soap.wsdl.services["MotCuaHoSoService"].ports["HoSoSoapPort"].binding_options["address"] == sims.soap_url


def test_the_change_feed_pages_in_order_through_every_dossier_of_the_unit(sims: Simulators) -> None:
    soap = client(sims)
    seen, token = [], None
    while True:
        page = soap.service.LayDanhSachHoSoThayDoi(MaDonVi="20965", TuNgay=SINCE, SoLuongToiDa=7, TokenTiepTheo=token)
        seen += [(e.NgayCapNhat, e.MaHoSo) for e in page.DanhSachThayDoi.ThayDoi]
        token = page.TokenTiepTheo
        if token is None:
            break
    assert seen == sorted(seen)
    assert {code for _, code in seen} == {r.MaHoSo for r in sims.store.records("20965")}


def test_a_district_decision_returns_to_the_commune_idempotently(sims: Simulators) -> None:
    soap = client(sims)
    record = next(r for r in sims.store.records("20965") if r.TrangThai in (2, 4))
    entry = {
        "NguoiXuLy": "Nguyễn Văn An",
        "ChucDanh": "Chuyên viên",
        "ThoiDiem": sims.now(),
        "PhongBan": "Phòng TP",
        "NoiDung": "Đã xử lý xong",
        "TrangThai": 9,
        "MaDonVi": "517",
    }
    args = {
        "MaDonVi": "20965",
        "MaHoSo": record.MaHoSo,
        "TrangThai": 9,
        "PhienBanNguon": 5,
        "MaDonViGui": "517",
        "NgayKetThucXuLy": sims.now(),
        "DanhSachTienDo": {"TienDo": [entry]},
    }
    if record.TrangThai == 2:
        args["TrangThai"] = 4
    first = soap.service.CapNhatTrangThaiHoSo(**args)
    again = soap.service.CapNhatTrangThaiHoSo(**args)
    assert (first.KetQua, first.SoTienDoDaThem) == ("DaCapNhat", 1)
    assert (again.KetQua, again.SoTienDoDaThem, again.PhienBan) == ("BoQua", 0, first.PhienBan)
    stale = soap.service.CapNhatTrangThaiHoSo(**{**args, "PhienBanNguon": 4, "TrangThai": 4})
    assert stale.KetQua == "BoQua" and "cũ" in stale.LyDo
    after = soap.service.LayDanhSachHoSoThayDoi(MaDonVi="20965", TuNgay=sims.now() - timedelta(seconds=1))
    assert record.MaHoSo in {e.MaHoSo for e in after.DanhSachThayDoi.ThayDoi}


@pytest.mark.parametrize(
    ("password", "digest", "call", "expected"),
    [
        ("wrong", False, ("KiemTraKetNoi", {}), ("soap:Client.XacThuc", "AUTH")),
        ("wrong", True, ("KiemTraKetNoi", {}), ("soap:Client.XacThuc", "AUTH")),
        (
            "hub-secret",
            False,
            ("LayChiTietHoSo", {"MaDonVi": "517", "MaHoSo": "000.00.17.H47-990101-0001"}),
            ("soap:Client.KhongTimThay", "NOT_FOUND"),
        ),
        ("hub-secret", False, ("KiemTraKetNoi", {"MaDonVi": "99999"}), ("soap:Client.KhongTimThay", "NOT_FOUND")),
    ],
)
def test_faults_have_distinct_codes(
    sims: Simulators, password: str, digest: bool, call: tuple[str, dict[str, str]], expected: tuple[str, str]
) -> None:
    soap = client(sims, password, digest)
    with pytest.raises(Fault) as caught:
        getattr(soap.service, call[0])(**call[1])
    assert caught.value.code == expected[0]
    assert caught.value.detail.findtext("{urn:motcua:hoso:v1}LoiNghiepVu/{urn:motcua:hoso:v1}MaLoi") == expected[1]


def test_a_request_violating_the_xsd_is_refused_with_a_validation_fault(sims: Simulators) -> None:
    envelope = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:motcua:hoso:v1">
 <soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
  <wsse:UsernameToken><wsse:Username>hub</wsse:Username><wsse:Password>hub-secret</wsse:Password></wsse:UsernameToken>
 </wsse:Security></soap:Header>
 <soap:Body><m:LayDanhSachHoSoThayDoi><m:MaDonVi>517</m:MaDonVi><m:TuNgay>2023-10-01T00:00:00</m:TuNgay>
 </m:LayDanhSachHoSoThayDoi></soap:Body></soap:Envelope>"""  # TuNgay lacks its UTC offset
    response = requests.post(sims.soap_url, data=envelope.encode(), headers={"Content-Type": "text/xml"}, timeout=5)
    assert response.status_code == 500
    assert b"soap:Client.DuLieuKhongHopLe" in response.content and b"VALIDATION" in response.content
    soap = client(sims)
    with pytest.raises(Fault) as caught:
        soap.service.LayChiTietHoSo(MaDonVi="517", MaHoSo="not-a-code")
    assert caught.value.code == "soap:Client.DuLieuKhongHopLe"
