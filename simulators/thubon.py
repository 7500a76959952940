"""A fifth one-stop-shop vendor's service ("Thu Bồn" TB-eGov 2, ``contracts/thubon/``), fictional: an ASP.NET web
service (ASMX) as many provinces still run.

One endpoint answers SOAP 1.1 (``text/xml`` + ``SOAPAction``) and SOAP 1.2 (``application/soap+xml``) in the namespace
``http://tempuri.org/``; every call carries an ``AuthHeader`` SOAP header (no WS-Security), and a wrong password is a
*server* fault ("Server was unable to process request. ---> Sai thông tin xác thực") with an empty ``<detail />``,
as an unhandled .NET exception is. The change feed is a .NET DataSet (inline ``xs:schema`` + ``diffgr:diffgram``,
upper-case Oracle column names, a null column left out of its row), paged by a zero-based page index without a
page count; the record is an escaped XML string (``GetDossierResult``) with upper-case element names, status words in
capitals, local times without an offset and ``0001-01-01T00:00:00`` (``DateTime.MinValue``) for an unknown date. The
vendor keeps no deleted attachments, no attachment component codes, and writes the applicant type and the return
method only when they are not the usual (a citizen, in person). It renders records with its own code, never with
the hub's mappings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from foundation.clock import VN_TZ
from simulators.faults import Decision, FaultInjector
from simulators.motcua import OneStopShop
from simulators.records import HoSo
from simulators.soap import Credentials, _before

CONTRACT = Path(__file__).resolve().parent / "contracts" / "thubon" / "thubon.wsdl"
PATH = "/thubon/DichVuHoSo.asmx"
NS = "http://tempuri.org/"
_Q = "{" + NS + "}"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSD = "http://www.w3.org/2001/XMLSchema"
MSDATA = "urn:schemas-microsoft-com:xml-msdata"
DIFFGR = "urn:schemas-microsoft-com:xml-diffgram-v1"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"  # a .NET DateTime of kind Unspecified: local time, no offset
MIN_VALUE = "0001-01-01T00:00:00"  # DateTime.MinValue: what the vendor writes for an unknown date
AUTH_REFUSED = "Sai thông tin xác thực"
COLUMNS = ("MA_HO_SO", "PHIEN_BAN", "NGAY_CAP_NHAT")

# The vendor's words for the national status codes, in capitals as its database keeps them.
STATUS = {
    1: "MỚI ĐĂNG KÝ",
    2: "ĐÃ TIẾP NHẬN",
    3: "KHÔNG TIẾP NHẬN",
    4: "ĐANG XỬ LÝ",
    5: "YÊU CẦU BỔ SUNG",
    6: "CHỜ NGHĨA VỤ TÀI CHÍNH",
    7: "CÔNG DÂN RÚT HỒ SƠ",
    8: "DỪNG XỬ LÝ",
    9: "ĐÃ CÓ KẾT QUẢ",
    10: "ĐÃ TRẢ KẾT QUẢ",
}


class AsmxFault(Exception):
    """Raised inside a handler to answer with a fault; ``client`` for a request the server could not read."""

    def __init__(self, message: str, *, client: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.client = client


class ThuBonService:
    """The vendor's two operations over the shared data world, for ``units`` only."""

    def __init__(
        self, store: OneStopShop, units: Iterable[str], faults: FaultInjector, credentials: Credentials
    ) -> None:
        self.store = store
        self.units = frozenset(units)
        self.faults = faults
        self.credentials = credentials

    async def wsdl(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        text = CONTRACT.read_text(encoding="utf-8").replace("http://127.0.0.1:8701" + PATH, base + PATH)
        return Response(text.encode("utf-8"), media_type="text/xml; charset=utf-8")

    async def post(self, request: Request) -> Response:
        body = await request.body()
        soap12 = request.headers.get("content-type", "").startswith("application/soap+xml")
        action = _action(request.headers.get("soapaction") or request.headers.get("content-type", ""))
        decision = self.faults.decide("thubon", action)
        early = await _before(decision)
        if early is not None:
            return early
        try:
            if decision.soap_fault:
                raise AsmxFault("Timeout expired. The timeout period elapsed prior to completion of the operation.")
            payload = self.handle(body, soap12=soap12, decision=decision)
        except AsmxFault as fault:
            return _fault(fault, soap12=soap12)
        media = "application/soap+xml; charset=utf-8" if soap12 else "text/xml; charset=utf-8"
        return Response(payload, media_type=media)

    def handle(self, body: bytes, *, soap12: bool = False, decision: Decision | None = None) -> bytes:
        """One request envelope to one response envelope; raises AsmxFault."""
        env = SOAP12 if soap12 else SOAP11
        try:
            envelope = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise AsmxFault("There is an error in XML document (1, 1).", client=True) from exc
        if etree.QName(envelope).namespace != env:
            raise AsmxFault("Possible SOAP version mismatch: Envelope namespace was unexpected.", client=True)
        self._authenticate(envelope.find(f"{{{env}}}Header"))
        soap_body = envelope.find(f"{{{env}}}Body")
        request = soap_body[0] if soap_body is not None and len(soap_body) else None
        if request is None or etree.QName(request).namespace != NS:
            raise AsmxFault("Unable to handle request without a valid action parameter.", client=True)
        name = etree.QName(request).localname
        if name == "GetChangedDossiers":
            result = self._changes(request, unreadable=decision is not None and decision.feed_unreadable)
        elif name == "GetDossier":
            result = self._dossier(request)
        else:
            raise AsmxFault(f"Unable to handle request. The action '{name}' was not recognized.", client=True)
        out = etree.Element(
            f"{{{env}}}Envelope", nsmap={"soap": env, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
        )
        answer = etree.SubElement(etree.SubElement(out, f"{{{env}}}Body"), f"{_Q}{name}Response", nsmap={None: NS})
        answer.append(result)
        return bytes(etree.tostring(out, xml_declaration=True, encoding="utf-8"))

    def _authenticate(self, header: etree._Element | None) -> None:
        auth = None if header is None else header.find(_Q + "AuthHeader")
        user = "" if auth is None else auth.findtext(_Q + "UserName") or ""
        password = "" if auth is None else auth.findtext(_Q + "Password") or ""
        if (user, password) != (self.credentials.username, self.credentials.password):
            raise AsmxFault(AUTH_REFUSED)  # an exception the service throws: a server fault, like every other

    def _changes(self, request: etree._Element, *, unreadable: bool = False) -> etree._Element:
        unit = request.findtext(_Q + "unitCode") or ""
        if unit not in self.units:
            raise AsmxFault(f"Đơn vị {unit} không sử dụng hệ thống")
        raw_since = request.findtext(_Q + "fromDate") or ""
        try:
            since = datetime.strptime(raw_since[:19], TIME_FORMAT).replace(tzinfo=VN_TZ)
        except ValueError:
            raise AsmxFault(f"There is an error in XML document: fromDate '{raw_since}'", client=True) from None
        index = max(int(request.findtext(_Q + "pageIndex") or 0), 0)
        size = min(max(int(request.findtext(_Q + "pageSize") or 50), 1), 200)
        with self.store.lock:
            rows = sorted(
                ((r.NgayCapNhat, r.MaHoSo, r.PhienBan) for r in self.store.records(unit) if r.NgayCapNhat),
                key=lambda row: (row[0], row[1]),
            )
        rows = [row for row in rows if row[0].replace(microsecond=0) >= since]
        result = etree.Element(_Q + "GetChangedDossiersResult")
        result.append(_dataset_schema())
        diffgram = etree.SubElement(result, f"{{{DIFFGR}}}diffgram", nsmap={"msdata": MSDATA, "diffgr": DIFFGR})
        if math.ceil(len(rows) / size) > index:
            dataset = etree.SubElement(diffgram, "NewDataSet", nsmap={None: ""})
            for n, (updated, code, version) in enumerate(rows[index * size : (index + 1) * size]):
                row = etree.SubElement(dataset, "Table")
                row.set(f"{{{DIFFGR}}}id", f"Table{n + 1}")
                row.set(f"{{{MSDATA}}}rowOrder", str(n))
                etree.SubElement(row, "MA_HO_SO").text = code
                if not (unreadable and n == 0):  # a row saved without its revision: DataSet leaves a null column out
                    etree.SubElement(row, "PHIEN_BAN").text = str(version)
                etree.SubElement(row, "NGAY_CAP_NHAT").text = updated.astimezone(VN_TZ).isoformat(timespec="seconds")
        return result

    def _dossier(self, request: etree._Element) -> etree._Element:
        code = request.findtext(_Q + "dossierNo") or ""
        with self.store.lock:
            found = [self.store.get(u, code) for u in self.units if self.store.has(u, code)]
            if not found:
                raise AsmxFault(f"Không tìm thấy hồ sơ {code}")
            mine = [r for r in found if r.MaDonViXuLy in (None, r.MaDonViTiepNhan)]
            record = (mine or found)[0].clone()
        result = etree.Element(_Q + "GetDossierResult")
        result.text = etree.tostring(_render(record), encoding="unicode")  # escaped when the answer is written
        return result


def _dataset_schema() -> etree._Element:
    schema = etree.Element(f"{{{XSD}}}schema", id="NewDataSet", nsmap={"xs": XSD, "msdata": MSDATA, None: ""})
    top = etree.SubElement(schema, f"{{{XSD}}}element", name="NewDataSet")
    top.set(f"{{{MSDATA}}}IsDataSet", "true")
    top.set(f"{{{MSDATA}}}UseCurrentLocale", "true")
    choice = etree.SubElement(
        etree.SubElement(top, f"{{{XSD}}}complexType"), f"{{{XSD}}}choice", minOccurs="0", maxOccurs="unbounded"
    )
    table = etree.SubElement(choice, f"{{{XSD}}}element", name="Table")
    sequence = etree.SubElement(etree.SubElement(table, f"{{{XSD}}}complexType"), f"{{{XSD}}}sequence")
    for column, kind in zip(COLUMNS, ("xs:string", "xs:decimal", "xs:dateTime"), strict=True):
        etree.SubElement(sequence, f"{{{XSD}}}element", name=column, type=kind, minOccurs="0")
    return schema


def _render(r: HoSo) -> etree._Element:
    hoso = etree.Element("HO_SO")
    _add(hoso, "MA_HO_SO", r.MaHoSo)
    _add(hoso, "SO_BIEN_NHAN", r.SoBienNhan)
    _add(hoso, "DON_VI_TIEP_NHAN", r.MaDonViTiepNhan)
    _add(hoso, "DON_VI_XU_LY", r.MaDonViXuLy)
    _add(hoso, "TEN_DON_VI_XU_LY", r.DonViXuLy)
    thu_tuc = _add(hoso, "THU_TUC")
    _add(thu_tuc, "MA", r.MaThuTuc)
    _add(thu_tuc, "TEN", r.TenThuTuc)
    _add(thu_tuc, "MUC_DO", str(r.MucDo) if r.MucDo else None)
    if r.MaLinhVuc:
        linh_vuc = _add(hoso, "LINH_VUC")
        _add(linh_vuc, "MA", r.MaLinhVuc)
        _add(linh_vuc, "TEN", r.TenLinhVuc)
    _add(hoso, "KENH", str(r.KenhThucHien))
    a = r.ChuHoSo
    cong_dan = _add(hoso, "CONG_DAN")
    _add(cong_dan, "HO_TEN", a.HoTen)
    _add(cong_dan, "LOAI", None if a.LoaiDoiTuong == 1 else str(a.LoaiDoiTuong))  # only what is not a citizen
    _add(cong_dan, "SO_GIAY_TO", a.SoGiayTo)
    _add(cong_dan, "TAI_KHOAN_DVCQG", a.MaDoiTuong)
    _add(cong_dan, "DIEN_THOAI", a.SoDienThoai)
    _add(cong_dan, "EMAIL", a.Email)
    _add(cong_dan, "DIA_CHI", a.DiaChi)
    _add(hoso, "TRICH_YEU", r.TrichYeu)
    _add(hoso, "TRANG_THAI", STATUS[r.TrangThai])
    for tag, value in (
        ("NGAY_NOP", r.NgayNop),
        ("NGAY_TIEP_NHAN", r.NgayTiepNhan),
        ("NGAY_HEN_TRA", r.NgayHenTra),
        ("NGAY_XU_LY_XONG", r.NgayKetThucXuLy),
        ("NGAY_TRA_KET_QUA", r.NgayTra),
        ("NGAY_TU_CHOI", r.NgayTuChoi),
    ):
        _add(hoso, tag, _time(value))
    _add(hoso, "HINH_THUC_TRA", None if r.HinhThucTra in (None, 0) else str(r.HinhThucTra))  # 0: in person
    _add(hoso, "GHI_CHU", r.GhiChu)
    _add(hoso, "THANH_TOAN_TRUC_TUYEN", None if r.ThanhToanTrucTuyen is None else _bool(r.ThanhToanTrucTuyen))
    files = _add(hoso, "TAI_LIEU")
    for f in r.DanhSachTepDinhKem:
        if f.DaXoa:
            continue  # the vendor deletes the row: it keeps no deleted attachments
        tep = _add(files, "TEP")
        _add(tep, "MA", f.Id)
        _add(tep, "TEN", f.Ten)
        _add(tep, "URL", f.DuongDan)
        _add(tep, "SO_HOA", _bool(f.DuocSoHoa))
        _add(tep, "TAI_SU_DUNG", _bool(f.DuocTaiSuDung))
        _add(tep, "TU_KHO_QUOC_GIA", _bool(f.LayTuKhoDMQG))
    fees = _add(hoso, "LE_PHI")
    for fee in r.DanhSachLePhi:
        khoan = _add(fees, "KHOAN")
        _add(khoan, "TEN", fee.Ten)
        _add(khoan, "MA", fee.Ma)
        _add(khoan, "CACH_THU", fee.HinhThucThu)
        _add(khoan, "SO_TIEN", format(Decimal(fee.SoTien), "f"))
        _add(khoan, "LOAI", fee.Loai)
    papers = _add(hoso, "GIAY_TO_KHAC")
    for paper in r.DanhSachGiayToKhac:
        giay = _add(papers, "GIAY_TO")
        _add(giay, "TEN", paper.Ten)
        _add(giay, "SO_LUONG", str(paper.SoLuong))
        _add(giay, "LOAI", paper.Loai)
    rounds = _add(hoso, "BO_SUNG")
    for s in r.DanhSachBoSung:
        lan = _add(rounds, "LAN")
        _add(lan, "MA", s.Id)
        _add(lan, "NGUOI_YEU_CAU", s.NguoiYeuCau)
        _add(lan, "NOI_DUNG", s.NoiDung)
        _add(lan, "NGAY_YEU_CAU", _time(s.NgayYeuCau))
        _add(lan, "NGUOI_TIEP_NHAN", s.NguoiTiepNhan)
        _add(lan, "THONG_TIN_TIEP_NHAN", s.ThongTinTiepNhan)
        _add(lan, "NGAY_TIEP_NHAN", _time(s.NgayTiepNhan))
        _add(lan, "TRANG_THAI", s.TrangThai)
        for name in s.GiayTo:
            _add(lan, "GIAY_TO", name)
        _add(lan, "HEN_TRA_CU", _time(s.NgayHenTraTruoc))
        _add(lan, "HEN_TRA_MOI", _time(s.NgayHenTraMoi))
    results = _add(hoso, "KET_QUA")
    for k in r.DanhSachKetQua:
        giay = _add(results, "GIAY")
        _add(giay, "TEN", k.Ten)
        _add(giay, "MA_THANH_PHAN", k.MaThanhPhan)
        _add(giay, "MA", k.Id)
        _add(giay, "URL", k.DuongDan)
        _add(giay, "SO_GIAY", k.MaGiayTo)
    steps = _add(hoso, "QUA_TRINH")
    for e in r.DanhSachTienDo:
        buoc = _add(steps, "BUOC")
        _add(buoc, "CAN_BO", e.NguoiXuLy)
        _add(buoc, "CHUC_DANH", e.ChucDanh)
        _add(buoc, "PHONG_BAN", e.PhongBan)
        _add(buoc, "THOI_DIEM", _time(e.ThoiDiem))
        _add(buoc, "NOI_DUNG", e.NoiDung)
        _add(buoc, "TRANG_THAI", STATUS[e.TrangThai])
        _add(buoc, "BAT_DAU", _time(e.NgayBatDau))
        _add(buoc, "HAN_XU_LY", _time(e.NgayKetThucTheoQuyDinh))
        _add(buoc, "DON_VI", e.MaDonVi)
    _add(hoso, "PHIEN_BAN", str(r.PhienBan))
    _add(hoso, "NGAY_CAP_NHAT", _time(r.NgayCapNhat))
    return hoso


def _add(parent: etree._Element, tag: str, value: str | None = "") -> etree._Element:
    """A child element; a None value writes nothing (DataTable nulls are left out), "" makes a container."""
    child = etree.Element(tag)
    if value is None:
        return child
    if value:
        child.text = value
    parent.append(child)
    return child


def _time(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime(TIME_FORMAT) if value is not None else MIN_VALUE


def _bool(value: bool) -> str:
    return "True" if value else "False"


def _action(header: str) -> str | None:
    """The operation a SOAP 1.1 ``SOAPAction`` or a SOAP 1.2 content type's ``action`` parameter names."""
    for part in header.split(";"):
        part = part.strip()
        value = part.split("=", 1)[1] if part.startswith("action=") else part
        if NS in value:
            return value.strip('"').rsplit("/", 1)[-1] or None
    return None


def _fault(fault: AsmxFault, *, soap12: bool) -> Response:
    """What ASP.NET writes for an exception a web method throws: the message after "--->", an empty detail."""
    lead = "Server was unable to read request." if fault.client else "Server was unable to process request."
    text = f"{lead} ---> {fault.message}"
    if soap12:
        envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap": SOAP12})
        node = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP12}}}Body"), f"{{{SOAP12}}}Fault")
        code = etree.SubElement(node, f"{{{SOAP12}}}Code")
        etree.SubElement(code, f"{{{SOAP12}}}Value").text = "soap:Sender" if fault.client else "soap:Receiver"
        reason = etree.SubElement(node, f"{{{SOAP12}}}Reason")
        said = etree.SubElement(reason, f"{{{SOAP12}}}Text")
        said.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        said.text = text
        etree.SubElement(node, f"{{{SOAP12}}}Detail")
        media = "application/soap+xml; charset=utf-8"
    else:
        envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11})
        node = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP11}}}Body"), f"{{{SOAP11}}}Fault")
        etree.SubElement(node, "faultcode").text = "soap:Client" if fault.client else "soap:Server"
        etree.SubElement(node, "faultstring").text = text
        etree.SubElement(node, "detail")
        media = "text/xml; charset=utf-8"
    body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return Response(body, status_code=500, media_type=media)


def routes(service: ThuBonService) -> list[Route]:
    return [Route(PATH, service.wsdl, methods=["GET"]), Route(PATH, service.post, methods=["POST"])]


def create_app(service: ThuBonService) -> Starlette:
    return Starlette(routes=routes(service))
