"""The one-stop-shop's own dossier record (element names as in ``contracts/motcua.xsd``) and its XML rendering.

The simulator is a vendor system independent of the hub, so it renders its records with this module's code and
never with the hub's mappings: a mapping bug then shows up as a difference, not as two copies of the same bug.
Dataclass field order is the XSD's ``xs:sequence`` order; a field's ``item`` metadata names the repeated child of a
wrapper list (``DanhSachTienDo/TienDo``), a list without it repeats its own element (``BoSung/GiayTo``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

NS = "urn:motcua:hoso:v1"
_Q = "{" + NS + "}"


@dataclass(slots=True)
class ChuHoSo:
    HoTen: str
    LoaiDoiTuong: int
    SoGiayTo: str | None = None
    MaDoiTuong: str | None = None
    Email: str | None = None
    SoDienThoai: str | None = None
    DiaChi: str | None = None


@dataclass(slots=True)
class TepDinhKem:
    Id: str
    Ten: str
    MaThanhPhan: str | None
    DuongDan: str | None
    DaXoa: bool
    DuocSoHoa: bool
    DuocTaiSuDung: bool
    LayTuKhoDMQG: bool


@dataclass(slots=True)
class LePhi:
    Ten: str
    Ma: str | None
    HinhThucThu: str | None
    SoTien: Decimal
    Loai: str | None


@dataclass(slots=True)
class GiayTo:
    Ten: str
    SoLuong: int
    Loai: str | None = None


@dataclass(slots=True)
class BoSung:
    Id: str
    NguoiYeuCau: str | None = None
    NoiDung: str | None = None
    NgayYeuCau: datetime | None = None
    NguoiTiepNhan: str | None = None
    ThongTinTiepNhan: str | None = None
    NgayTiepNhan: datetime | None = None
    TrangThai: str | None = None  # ChoBoSung, DaBoSung, GiaHan
    GiayTo: list[str] = field(default_factory=list)
    NgayHenTraTruoc: datetime | None = None
    NgayHenTraMoi: datetime | None = None


@dataclass(slots=True)
class KetQua:
    Ten: str
    MaThanhPhan: str | None = None
    Id: str | None = None
    DuongDan: str | None = None
    MaGiayTo: str | None = None


@dataclass(slots=True)
class TienDo:
    NguoiXuLy: str
    ChucDanh: str | None
    ThoiDiem: datetime
    PhongBan: str | None
    NoiDung: str
    TrangThai: int
    NgayBatDau: datetime | None = None
    NgayKetThucTheoQuyDinh: datetime | None = None
    MaDonVi: str | None = None

    def identity(self) -> tuple[datetime, str, int, str]:
        """What makes two entries the same step (the idempotency key of CapNhatTrangThaiHoSo)."""
        return (self.ThoiDiem, self.NguoiXuLy, self.TrangThai, self.NoiDung)


@dataclass(slots=True)
class HoSo:
    MaHoSo: str
    MaDonViTiepNhan: str
    MaDonViXuLy: str | None
    MaThuTuc: str
    TenThuTuc: str
    MaLinhVuc: str | None
    TenLinhVuc: str | None
    MucDo: int | None
    SoBienNhan: str | None
    KenhThucHien: int
    ChuHoSo: ChuHoSo
    TrichYeu: str | None
    TrangThai: int
    NgayNop: datetime | None = None
    NgayTiepNhan: datetime | None = None
    NgayHenTra: datetime | None = None
    NgayKetThucXuLy: datetime | None = None
    NgayTra: datetime | None = None
    NgayTuChoi: datetime | None = None
    HinhThucTra: int | None = None
    DonViXuLy: str | None = None
    GhiChu: str | None = None
    ThanhToanTrucTuyen: bool | None = None
    DanhSachTepDinhKem: list[TepDinhKem] = field(default_factory=list, metadata={"item": "TepDinhKem"})
    DanhSachLePhi: list[LePhi] = field(default_factory=list, metadata={"item": "LePhi"})
    DanhSachGiayToKhac: list[GiayTo] = field(default_factory=list, metadata={"item": "GiayTo"})
    DanhSachBoSung: list[BoSung] = field(default_factory=list, metadata={"item": "BoSung"})
    DanhSachKetQua: list[KetQua] = field(default_factory=list, metadata={"item": "KetQua"})
    DanhSachTienDo: list[TienDo] = field(default_factory=list, metadata={"item": "TienDo"})
    PhienBan: int = 1
    NgayCapNhat: datetime | None = None

    def clone(self) -> HoSo:
        return copy.deepcopy(self)


def text(value: object) -> str:
    """The XSD lexical form of a simple value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_element(obj: Any, tag: str) -> etree._Element:
    """``obj`` (a record dataclass) as the XML element ``tag`` in the contract's namespace."""
    element = etree.Element(_Q + tag)
    _fill(element, obj)
    return element


def _fill(parent: etree._Element, obj: Any) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        if isinstance(value, list):
            item_tag = f.metadata.get("item")
            holder = etree.SubElement(parent, _Q + f.name) if item_tag else parent
            for item in value:
                _append(holder, item_tag or f.name, item)
        else:
            _append(parent, f.name, value)


def _append(parent: etree._Element, tag: str, value: Any) -> None:
    child = etree.SubElement(parent, _Q + tag)
    if is_dataclass(value):
        _fill(child, value)
    else:
        child.text = text(value)


def tiendo_from_element(element: etree._Element) -> TienDo:
    """A progress entry from an XSD-valid ``TienDo`` element (datetimes keep the offset they were sent with)."""
    values: dict[str, Any] = {etree.QName(child).localname: child.text or "" for child in element}
    for name in ("ThoiDiem", "NgayBatDau", "NgayKetThucTheoQuyDinh"):
        if name in values:
            values[name] = parse_datetime(values[name])
    values["TrangThai"] = int(values["TrangThai"])
    values.setdefault("ChucDanh", None)
    values.setdefault("PhongBan", None)
    return TienDo(**values)


def parse_datetime(raw: str) -> datetime:
    """An xs:dateTime with an offset (the XSD already required one); ``Z`` is accepted too."""
    return datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
