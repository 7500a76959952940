"""A second one-stop-shop vendor's SOAP service ("Phương Nam" PN-MotCua 3, ``contracts/phuongnam/``), fictional.

It serves the same data world as the default contract's simulator (:class:`OneStopShop`), for the units whose
system uses this vendor, but as that vendor would write it: its own operation and element names, nested groups,
dates as local-time text (``dd/MM/yyyy HH:mm:ss``, ``01/01/0001 00:00:00`` when unknown), its own words for codes,
no change time in the record (only in the feed), a dossier request without a unit, and numbered pages. It renders
records with its own code, never with the hub's mappings, so a mapping bug shows up as a difference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.clock import VN_TZ
from simulators.faults import Decision, FaultInjector
from simulators.motcua import OneStopShop
from simulators.records import HoSo, TienDo
from simulators.soap import SOAP_ENV, Credentials, SoapFault, _before, check_username_token

CONTRACT = Path(__file__).resolve().parent / "contracts" / "phuongnam" / "phuongnam.wsdl"
NS = "http://egov.phuongnam.example/motcua/2021"
PATH = "/phuongnam"
_Q = "{" + NS + "}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
UNKNOWN_TIME = "01/01/0001 00:00:00"  # what the vendor's .NET stack writes for DateTime.MinValue

# The vendor's words for the national codes.
STATUS = {
    1: "CHO_TIEP_NHAN",
    2: "DA_TIEP_NHAN",
    3: "TU_CHOI_TIEP_NHAN",
    4: "DANG_GIAI_QUYET",
    5: "CHO_BO_SUNG",
    6: "CHO_THUC_HIEN_NVTC",
    7: "CONG_DAN_RUT",
    8: "TAM_DUNG",
    9: "CO_KET_QUA",
    10: "DA_TRA_KET_QUA",
}
CHANNEL = {1: "TAI_QUAY", 2: "DICH_VU_CONG", 3: "BUU_CHINH_CI"}
APPLICANT = {1: "CA_NHAN", 2: "DOANH_NGHIEP", 3: "CQNN", 4: "TO_CHUC"}
RETURN = {0: "NHAN_TAI_QUAY", 1: "GUI_QUA_BUU_DIEN"}
LEVEL = {2: "MUC_DO_2", 3: "MUC_DO_3", 4: "MUC_DO_4"}
FAULT_CODES = {
    "AUTH": "PN-401",
    "NOT_FOUND": "PN-404",
    "CONFLICT": "PN-409",
    "VALIDATION": "PN-422",
    "INTERNAL": "PN-500",
}
STATUS_OF = {word: number for number, word in STATUS.items()}


class PhuongNamService:
    """The vendor's three operations over the shared data world, for ``units`` only."""

    def __init__(
        self,
        store: OneStopShop,
        units: Iterable[str],
        faults: FaultInjector,
        credentials: Credentials,
        clock: Any,
    ) -> None:
        self.store = store
        self.units = frozenset(units)
        self.faults = faults
        self.credentials = credentials
        self.clock = clock
        wsdl = etree.parse(str(CONTRACT), _PARSER)
        schema = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")
        self.schema = etree.XMLSchema(schema)

    async def wsdl(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        text = CONTRACT.read_text(encoding="utf-8").replace("http://127.0.0.1:8701/phuongnam", base + PATH)
        return Response(text.encode("utf-8"), media_type="text/xml")

    async def post(self, request: Request) -> Response:
        body = await request.body()
        action = request.headers.get("soapaction", "").strip('"').rsplit("/", 1)[-1] or None
        decision = self.faults.decide("phuongnam", action)
        early = await _before(decision)
        if early is not None:
            return early
        try:
            if decision.soap_fault:
                raise SoapFault("INTERNAL", "Hệ thống đang bận (injected internal error)")
            payload = self.handle(body, decision)
        except SoapFault as fault:
            return _fault(fault)
        return Response(payload, media_type="text/xml; charset=utf-8")

    def handle(self, body: bytes, decision: Decision | None = None) -> bytes:
        """One request envelope to one response envelope; raises SoapFault."""
        try:
            envelope = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise SoapFault("VALIDATION", "Yêu cầu không phải XML (malformed XML)") from exc
        check_username_token(envelope.find(f"{{{SOAP_ENV}}}Header"), self.credentials)
        soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
        request = soap_body[0] if soap_body is not None and len(soap_body) else None
        if request is None or not isinstance(request.tag, str) or not request.tag.startswith(_Q):
            raise SoapFault("VALIDATION", "Sai namespace (wrong namespace)")
        document = etree.ElementTree(etree.fromstring(etree.tostring(request), _PARSER))
        if not self.schema.validate(document):
            problems = [str(e.message) for e in self.schema.error_log]
            raise SoapFault("VALIDATION", "Yêu cầu sai lược đồ (request violates the schema): " + "; ".join(problems))
        name = etree.QName(request).localname
        if name == "TraCuuBienDong":
            reply = self._changes(request, unreadable=decision is not None and decision.feed_unreadable)
        elif name == "LayHoSo":
            reply = self._dossier(request)
        elif name == "CapNhatTinhTrang":
            reply = self._update(request)
        elif name == "KiemTraDichVu":
            reply = etree.Element(_Q + "KiemTraDichVuResponse")
            _add(reply, "tinhTrangDichVu", "HOAT_DONG")
        else:
            raise SoapFault("VALIDATION", f"Không có thao tác {name} (unknown operation)")
        out = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"s": SOAP_ENV, "pn": NS})
        etree.SubElement(out, f"{{{SOAP_ENV}}}Body").append(reply)
        return bytes(etree.tostring(out, xml_declaration=True, encoding="utf-8"))

    def _changes(self, request: etree._Element, *, unreadable: bool = False) -> etree._Element:
        unit = request.findtext(_Q + "maCoQuan") or ""
        if unit not in self.units:
            raise SoapFault("NOT_FOUND", f"Cơ quan {unit} không dùng hệ thống này (unknown agency)")
        since = datetime.strptime(request.findtext(_Q + "thoiGianTu") or "", TIME_FORMAT).replace(tzinfo=VN_TZ)
        page = max(int(request.findtext(_Q + "trang") or 1), 1)
        size = min(max(int(request.findtext(_Q + "soBanGhi") or 50), 1), 500)
        with self.store.lock:
            rows = sorted(
                ((r.NgayCapNhat, r.MaHoSo, r.PhienBan) for r in self.store.records(unit) if r.NgayCapNhat),
                key=lambda row: (row[0], row[1]),
            )
        # The vendor compares at whole seconds: its times have no fraction.
        rows = [row for row in rows if row[0].replace(microsecond=0) >= since]
        reply = etree.Element(_Q + "TraCuuBienDongResponse")
        _add(reply, "tongSoTrang", str(math.ceil(len(rows) / size)))
        holder = _add(reply, "dsBienDong")
        for n, (updated, code, version) in enumerate(rows[(page - 1) * size : page * size]):
            item = _add(holder, "bienDong")
            _add(item, "soHoSo", code)
            _add(item, "lanSua", str(version))
            _add(item, "thoiDiemSua", "" if unreadable and n == 0 else _time(updated))  # a row saved without it
        return reply

    def _dossier(self, request: etree._Element) -> etree._Element:
        code = request.findtext(_Q + "soHoSo") or ""
        with self.store.lock:
            record = self._owner_copy(code)
            reply = etree.Element(_Q + "LayHoSoResponse")
            reply.append(_render(record))
        return reply

    def _update(self, request: etree._Element) -> etree._Element:
        """The flat status update: the step (note, officer, time) joins the copy's process, and the status is set
        unless it would regress; refused (PN-409) when the caller's lanSuaHienTai is not the copy's revision."""
        code = request.findtext(_Q + "soHoSo") or ""
        word = request.findtext(_Q + "tinhTrang") or ""
        if word not in STATUS_OF:
            raise SoapFault("VALIDATION", f"Hồ sơ {code}: tình trạng {word!r} không hợp lệ (unknown status)")
        status = STATUS_OF[word]
        officer, note = request.findtext(_Q + "canBoXuLy"), request.findtext(_Q + "ghiChu")
        said = request.findtext(_Q + "thoiDiem")
        try:
            at = datetime.strptime(said, TIME_FORMAT).replace(tzinfo=VN_TZ) if said else None
        except ValueError as exc:
            raise SoapFault("VALIDATION", f"Hồ sơ {code}: thoiDiem {said!r} sai định dạng (bad time)") from exc
        expected = request.findtext(_Q + "lanSuaHienTai")
        with self.store.lock:
            unit, copy = self._owner(code)
            if expected and int(expected) != copy.PhienBan:
                raise SoapFault(
                    "CONFLICT",
                    f"Hồ sơ {code} đã thay đổi (lần sửa {copy.PhienBan}, không phải {expected}) (the copy changed)",
                )
            entries = []
            if officer and note and at is not None:
                entries.append(TienDo(officer, None, at, None, note, status, MaDonVi=unit))
            outcome = self.store.apply_update(unit, code, status, 0, None, entries, self.clock.now())
        reply = etree.Element(_Q + "CapNhatTinhTrangResponse")
        _add(reply, "ketQua", "DA_CAP_NHAT" if outcome.applied else "BO_QUA")
        _add(reply, "lanSua", str(outcome.version))
        _add(reply, "lyDo", outcome.reason)
        return reply

    def _owner_copy(self, code: str) -> HoSo:
        return self._owner(code)[1].clone()

    def _owner(self, code: str) -> tuple[str, HoSo]:
        """The vendor keeps one copy per dossier: the processing unit's, else the receiving unit's (with its unit)."""
        found = [(u, self.store.get(u, code)) for u in sorted(self.units) if self.store.has(u, code)]
        if not found:
            raise SoapFault("NOT_FOUND", f"Không tìm thấy hồ sơ {code} (no such dossier)")
        mine = [(u, r) for u, r in found if r.MaDonViXuLy in (None, r.MaDonViTiepNhan)]
        return (mine or found)[0]


def _render(r: HoSo) -> etree._Element:
    hoso = etree.Element(_Q + "hoSo")
    _add(hoso, "soHoSo", r.MaHoSo)
    _add(hoso, "soBienNhan", r.SoBienNhan)
    don_vi = _add(hoso, "donVi")
    _add(don_vi, "maDonViNhan", r.MaDonViTiepNhan)
    _add(don_vi, "maDonViGiaiQuyet", r.MaDonViXuLy)
    _add(don_vi, "tenDonViGiaiQuyet", r.DonViXuLy)
    thu_tuc = _add(hoso, "thuTuc")
    _add(thu_tuc, "maTTHC", r.MaThuTuc)
    _add(thu_tuc, "tenTTHC", r.TenThuTuc)
    if r.MaLinhVuc:
        linh_vuc = _add(thu_tuc, "linhVuc")
        _add(linh_vuc, "ma", r.MaLinhVuc)
        _add(linh_vuc, "ten", r.TenLinhVuc)
    _add(thu_tuc, "mucDoDVC", LEVEL.get(r.MucDo) if r.MucDo else None)
    _add(hoso, "kenhNop", CHANNEL[r.KenhThucHien])
    a = r.ChuHoSo
    nguoi = _add(hoso, "nguoiNop")
    _add(nguoi, "hoVaTen", a.HoTen)
    _add(nguoi, "doiTuong", APPLICANT[a.LoaiDoiTuong])
    _add(nguoi, "soGiayTo", a.SoGiayTo)
    _add(nguoi, "maTaiKhoan", a.MaDoiTuong)
    if a.SoDienThoai or a.Email or a.DiaChi:
        lien_he = _add(nguoi, "lienHe")
        _add(lien_he, "dienThoai", a.SoDienThoai)
        _add(lien_he, "thuDienTu", a.Email)
        _add(lien_he, "diaChi", a.DiaChi)
    _add(hoso, "noiDung", r.TrichYeu)
    _add(hoso, "tinhTrang", STATUS[r.TrangThai])
    moc = _add(hoso, "mocThoiGian")
    for tag, value in (
        ("ngayNop", r.NgayNop),
        ("ngayNhan", r.NgayTiepNhan),
        ("ngayHenTra", r.NgayHenTra),
        ("ngayHoanThanh", r.NgayKetThucXuLy),
        ("ngayTraKQ", r.NgayTra),
        ("ngayTuChoi", r.NgayTuChoi),
    ):
        _add(moc, tag, _time(value))
    _add(hoso, "hinhThucTraKQ", RETURN.get(r.HinhThucTra) if r.HinhThucTra is not None else None)
    _add(hoso, "ghiChu", r.GhiChu)
    _add(hoso, "thanhToanTrucTuyen", None if r.ThanhToanTrucTuyen is None else _yes(r.ThanhToanTrucTuyen))
    files = _add(hoso, "dsTep")
    for f in r.DanhSachTepDinhKem:
        tep = _add(files, "tep")
        _add(tep, "maTep", f.Id)
        _add(tep, "tenTep", f.Ten)
        _add(tep, "maThanhPhan", f.MaThanhPhan)
        _add(tep, "duongDan", f.DuongDan)
        _add(tep, "daXoa", _yes(f.DaXoa))
        _add(tep, "soHoa", _yes(f.DuocSoHoa))
        _add(tep, "taiSuDung", _yes(f.DuocTaiSuDung))
        _add(tep, "tuKhoQuocGia", _yes(f.LayTuKhoDMQG))
    fees = _add(hoso, "dsPhi")
    for fee in r.DanhSachLePhi:
        phi = _add(fees, "phi")
        _add(phi, "tenPhi", fee.Ten)
        _add(phi, "maPhi", fee.Ma)
        _add(phi, "cachThu", fee.HinhThucThu)
        _add(phi, "soTien", format(Decimal(fee.SoTien), "f"))
        _add(phi, "loaiPhi", fee.Loai)
    papers = _add(hoso, "dsGiayToKhac")
    for paper in r.DanhSachGiayToKhac:
        giay = _add(papers, "giayTo")
        _add(giay, "ten", paper.Ten)
        _add(giay, "soBan", str(paper.SoLuong))
        _add(giay, "loai", paper.Loai)
    rounds = _add(hoso, "dsBoSung")
    for s in r.DanhSachBoSung:
        lan = _add(rounds, "lanBoSung")
        _add(lan, "ma", s.Id)
        _add(lan, "nguoiYeuCau", s.NguoiYeuCau)
        _add(lan, "noiDung", s.NoiDung)
        _add(lan, "ngayYeuCau", _time(s.NgayYeuCau))
        _add(lan, "nguoiNhan", s.NguoiTiepNhan)
        _add(lan, "thongTinNhan", s.ThongTinTiepNhan)
        _add(lan, "ngayNhan", _time(s.NgayTiepNhan))
        _add(lan, "tinhTrang", s.TrangThai)
        for name in s.GiayTo:
            _add(lan, "giayTo", name)
        _add(lan, "henTraCu", _time(s.NgayHenTraTruoc))
        _add(lan, "henTraMoi", _time(s.NgayHenTraMoi))
    results = _add(hoso, "dsKetQua")
    for k in r.DanhSachKetQua:
        ket_qua = _add(results, "ketQua")
        _add(ket_qua, "ten", k.Ten)
        _add(ket_qua, "maThanhPhan", k.MaThanhPhan)
        _add(ket_qua, "ma", k.Id)
        _add(ket_qua, "duongDan", k.DuongDan)
        _add(ket_qua, "maGiayTo", k.MaGiayTo)
    steps = _add(hoso, "quaTrinh")
    for e in r.DanhSachTienDo:
        buoc = _add(steps, "buoc")
        can_bo = _add(buoc, "canBo")
        _add(can_bo, "hoTen", e.NguoiXuLy)
        _add(can_bo, "chucVu", e.ChucDanh)
        _add(can_bo, "phongBan", e.PhongBan)
        _add(buoc, "thoiDiem", _time(e.ThoiDiem))
        _add(buoc, "noiDung", e.NoiDung)
        _add(buoc, "tinhTrang", STATUS[e.TrangThai])
        _add(buoc, "batDau", _time(e.NgayBatDau))
        _add(buoc, "hanXuLy", _time(e.NgayKetThucTheoQuyDinh))
        _add(buoc, "maDonVi", e.MaDonVi)
    _add(hoso, "lanSua", str(r.PhienBan))
    return hoso


def _add(parent: etree._Element, tag: str, value: str | None = "") -> etree._Element:
    """A child element; a None value writes nothing (the element is optional), "" makes a container."""
    child = etree.Element(_Q + tag)
    if value is None:
        return child
    if value:
        child.text = value
    parent.append(child)
    return child


def _time(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime(TIME_FORMAT) if value is not None else UNKNOWN_TIME


def _yes(value: bool) -> str:
    return "1" if value else "0"


def _fault(fault: SoapFault) -> Response:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"s": SOAP_ENV, "pn": NS})
    node = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = "s:Server" if fault.kind == "INTERNAL" else "s:Client"
    etree.SubElement(node, "faultstring").text = fault.message
    detail = etree.SubElement(etree.SubElement(node, "detail"), _Q + "LoiDichVu")
    etree.SubElement(detail, _Q + "maLoi").text = FAULT_CODES[fault.kind]
    etree.SubElement(detail, _Q + "thongBao").text = fault.message
    body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


def routes(service: PhuongNamService) -> list[Route]:
    return [Route(PATH, service.wsdl, methods=["GET"]), Route(PATH, service.post, methods=["POST"])]


def create_app(service: PhuongNamService) -> Starlette:
    return Starlette(routes=routes(service))
