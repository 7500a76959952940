"""The one-stop-shop "default vendor" record (``simulators/contracts/motcua.xsd``, ``HoSo``) ⇄ the canonical dossier.

:class:`HoSo` and its parts name the vendor's fields (aliases are the SOAP element names). The SOAP connector
hands over zeep's ``serialize_object`` output (nested dicts and lists, datetimes parsed, wrapper elements such as
``DanhSachTepDinhKem`` → ``{"TepDinhKem": [...]}``, None for absent optionals); other vendors and the fixtures send
the JSON form of the same record, with dates as strings in any format :func:`mappings.normalize.moment` reads.
:func:`to_canonical` accepts both; :func:`from_canonical` and :func:`to_status_update` build what goes back.

``to_canonical`` reads the record directly rather than validating :class:`HoSo` first: the canonical model is
validated anyway, and a second full validation per record would double the cost of the hot path
(``bench/bench_mappings.py``). :class:`HoSo` is the contract that ``from_canonical``'s output is checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from foundation.clock import VN_TZ
from mappings import normalize as n
from mappings.canonical import (
    Applicant,
    Dossier,
    Fee,
    OtherPaper,
    ProgressEntry,
    ResultPaper,
    SubmittedFile,
    SupplementRound,
)
from mappings.codes import Status
from mappings.errors import ValidationFailed
from mappings.problems import PathMap, Problems, validate_dossier
from mappings.procedures import ProcedureLookup
from mappings.tables import tables

# ----- the vendor's record, as declared by the contract -----


class _Element(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ChuHoSo(_Element):
    """ChuHoSoType: the applicant."""

    ho_ten: str = Field(alias="HoTen")
    loai_doi_tuong: int = Field(alias="LoaiDoiTuong", ge=1, le=4)
    so_giay_to: str | None = Field(None, alias="SoGiayTo")
    ma_doi_tuong: str | None = Field(None, alias="MaDoiTuong")
    email: str | None = Field(None, alias="Email")
    so_dien_thoai: str | None = Field(None, alias="SoDienThoai")
    dia_chi: str | None = Field(None, alias="DiaChi")


class TepDinhKem(_Element):
    """TepDinhKemType: a submitted file."""

    id: str = Field(alias="Id")
    ten: str = Field(alias="Ten")
    ma_thanh_phan: str | None = Field(None, alias="MaThanhPhan")
    duong_dan: str | None = Field(None, alias="DuongDan")
    da_xoa: bool = Field(alias="DaXoa")
    duoc_so_hoa: bool = Field(alias="DuocSoHoa")
    duoc_tai_su_dung: bool = Field(alias="DuocTaiSuDung")
    lay_tu_kho_dmqg: bool = Field(alias="LayTuKhoDMQG")


class LePhi(_Element):
    """LePhiType: a fee."""

    ten: str = Field(alias="Ten")
    ma: str | None = Field(None, alias="Ma")
    hinh_thuc_thu: str | None = Field(None, alias="HinhThucThu")
    so_tien: Decimal = Field(alias="SoTien", ge=0)
    loai: str | None = Field(None, alias="Loai")


class GiayTo(_Element):
    """GiayToType: another paper handed in."""

    ten: str = Field(alias="Ten")
    so_luong: int = Field(alias="SoLuong", ge=0)
    loai: str | None = Field(None, alias="Loai")


class BoSung(_Element):
    """BoSungType: a supplement round; an apology extension carries the old and the new appointment."""

    id: str = Field(alias="Id")
    nguoi_yeu_cau: str | None = Field(None, alias="NguoiYeuCau")
    noi_dung: str | None = Field(None, alias="NoiDung")
    ngay_yeu_cau: datetime | None = Field(None, alias="NgayYeuCau")
    nguoi_tiep_nhan: str | None = Field(None, alias="NguoiTiepNhan")
    thong_tin_tiep_nhan: str | None = Field(None, alias="ThongTinTiepNhan")
    ngay_tiep_nhan: datetime | None = Field(None, alias="NgayTiepNhan")
    trang_thai: str | None = Field(None, alias="TrangThai")
    giay_to: list[str] = Field(default_factory=list, alias="GiayTo")
    ngay_hen_tra_truoc: datetime | None = Field(None, alias="NgayHenTraTruoc")
    ngay_hen_tra_moi: datetime | None = Field(None, alias="NgayHenTraMoi")


class KetQua(_Element):
    """KetQuaType: a result paper."""

    ten: str = Field(alias="Ten")
    ma_thanh_phan: str | None = Field(None, alias="MaThanhPhan")
    id: str | None = Field(None, alias="Id")
    duong_dan: str | None = Field(None, alias="DuongDan")
    ma_giay_to: str | None = Field(None, alias="MaGiayTo")


class TienDo(_Element):
    """TienDoType: one processing step; MaDonVi is the unit whose system recorded it."""

    nguoi_xu_ly: str = Field(alias="NguoiXuLy", min_length=1, max_length=50)
    chuc_danh: str | None = Field(None, alias="ChucDanh")
    thoi_diem: datetime = Field(alias="ThoiDiem")
    phong_ban: str | None = Field(None, alias="PhongBan")
    noi_dung: str = Field(alias="NoiDung")
    trang_thai: int = Field(alias="TrangThai", ge=1, le=10)
    ngay_bat_dau: datetime | None = Field(None, alias="NgayBatDau")
    ngay_ket_thuc_theo_quy_dinh: datetime | None = Field(None, alias="NgayKetThucTheoQuyDinh")
    ma_don_vi: str | None = Field(None, alias="MaDonVi", pattern=r"^\d{1,6}$")


class DanhSachTepDinhKem(_Element):
    tep_dinh_kem: list[TepDinhKem] = Field(default_factory=list, alias="TepDinhKem")


class DanhSachLePhi(_Element):
    le_phi: list[LePhi] = Field(default_factory=list, alias="LePhi")


class DanhSachGiayToKhac(_Element):
    giay_to: list[GiayTo] = Field(default_factory=list, alias="GiayTo")


class DanhSachBoSung(_Element):
    bo_sung: list[BoSung] = Field(default_factory=list, alias="BoSung")


class DanhSachKetQua(_Element):
    ket_qua: list[KetQua] = Field(default_factory=list, alias="KetQua")


class DanhSachTienDo(_Element):
    tien_do: list[TienDo] = Field(default_factory=list, alias="TienDo")


class HoSo(_Element):
    """HoSoType: one dossier as the vendor's one-stop-shop holds it (element order is the XSD's sequence)."""

    ma_ho_so: str = Field(alias="MaHoSo")
    ma_don_vi_tiep_nhan: str = Field(alias="MaDonViTiepNhan", pattern=r"^\d{1,6}$")
    ma_don_vi_xu_ly: str | None = Field(None, alias="MaDonViXuLy", pattern=r"^\d{1,6}$")
    ma_thu_tuc: str = Field(alias="MaThuTuc")
    ten_thu_tuc: str = Field(alias="TenThuTuc")
    ma_linh_vuc: str | None = Field(None, alias="MaLinhVuc")
    ten_linh_vuc: str | None = Field(None, alias="TenLinhVuc")
    muc_do: int | None = Field(None, alias="MucDo", ge=2, le=4)
    so_bien_nhan: str | None = Field(None, alias="SoBienNhan")
    kenh_thuc_hien: int = Field(alias="KenhThucHien", ge=1, le=3)
    chu_ho_so: ChuHoSo = Field(alias="ChuHoSo")
    trich_yeu: str | None = Field(None, alias="TrichYeu", max_length=999)
    trang_thai: int = Field(alias="TrangThai", ge=1, le=10)
    ngay_nop: datetime | None = Field(None, alias="NgayNop")
    ngay_tiep_nhan: datetime | None = Field(None, alias="NgayTiepNhan")
    ngay_hen_tra: datetime | None = Field(None, alias="NgayHenTra")
    ngay_ket_thuc_xu_ly: datetime | None = Field(None, alias="NgayKetThucXuLy")
    ngay_tra: datetime | None = Field(None, alias="NgayTra")
    ngay_tu_choi: datetime | None = Field(None, alias="NgayTuChoi")
    hinh_thuc_tra: int | None = Field(None, alias="HinhThucTra", ge=0, le=1)
    don_vi_xu_ly: str | None = Field(None, alias="DonViXuLy")
    ghi_chu: str | None = Field(None, alias="GhiChu")
    thanh_toan_truc_tuyen: bool | None = Field(None, alias="ThanhToanTrucTuyen")
    danh_sach_tep_dinh_kem: DanhSachTepDinhKem | None = Field(None, alias="DanhSachTepDinhKem")
    danh_sach_le_phi: DanhSachLePhi | None = Field(None, alias="DanhSachLePhi")
    danh_sach_giay_to_khac: DanhSachGiayToKhac | None = Field(None, alias="DanhSachGiayToKhac")
    danh_sach_bo_sung: DanhSachBoSung | None = Field(None, alias="DanhSachBoSung")
    danh_sach_ket_qua: DanhSachKetQua | None = Field(None, alias="DanhSachKetQua")
    danh_sach_tien_do: DanhSachTienDo | None = Field(None, alias="DanhSachTienDo")
    phien_ban: int = Field(alias="PhienBan", ge=1)
    ngay_cap_nhat: datetime = Field(alias="NgayCapNhat")


# ----- where each canonical field comes from, for error paths -----

FEE_PATHS: Final = PathMap(
    Fee, {"name": "Ten", "code": "Ma", "collection_method": "HinhThucThu", "amount": "SoTien", "kind": "Loai"}
)
PATHS: Final = PathMap(
    Dossier,
    {
        "code": "MaHoSo",
        "receiving_unit": "MaDonViTiepNhan",
        "processing_unit": "MaDonViXuLy",
        "local_procedure_code": "MaThuTuc",
        "national_procedure_code": "MaThuTuc",
        "procedure_name": "TenThuTuc",
        "field_code": "MaLinhVuc",
        "field_name": "TenLinhVuc",
        "service_level": "MucDo",
        "receipt_number": "SoBienNhan",
        "channel": "KenhThucHien",
        "applicant": "ChuHoSo",
        "summary": "TrichYeu",
        "status": "TrangThai",
        "submitted_at": "NgayNop",
        "received_at": "NgayTiepNhan",
        "appointment_at": "NgayHenTra",
        "finished_at": "NgayKetThucXuLy",
        "returned_at": "NgayTra",
        "refused_at": "NgayTuChoi",
        "return_method": "HinhThucTra",
        "processing_unit_name": "DonViXuLy",
        "note": "GhiChu",
        "paid_online": "ThanhToanTrucTuyen",
        "files": "DanhSachTepDinhKem.TepDinhKem",
        "fees": "DanhSachLePhi.LePhi",
        "other_papers": "DanhSachGiayToKhac.GiayTo",
        "supplements": "DanhSachBoSung.BoSung",
        "results": "DanhSachKetQua.KetQua",
        "progress": "DanhSachTienDo.TienDo",
        "version": "PhienBan",
        "updated_at": "NgayCapNhat",
    },
    {
        "applicant": PathMap(
            Applicant,
            {
                "name": "HoTen",
                "kind": "LoaiDoiTuong",
                "id_number": "SoGiayTo",
                "portal_account_id": "MaDoiTuong",
                "email": "Email",
                "phone": "SoDienThoai",
                "address": "DiaChi",
            },
        ),
        "files": PathMap(
            SubmittedFile,
            {
                "file_id": "Id",
                "name": "Ten",
                "component_code": "MaThanhPhan",
                "url": "DuongDan",
                "deleted": "DaXoa",
                "digitised": "DuocSoHoa",
                "reused": "DuocTaiSuDung",
                "from_national_store": "LayTuKhoDMQG",
            },
        ),
        "fees": FEE_PATHS,
        "other_papers": PathMap(OtherPaper, {"name": "Ten", "quantity": "SoLuong", "kind": "Loai"}),
        "supplements": PathMap(
            SupplementRound,
            {
                "round_id": "Id",
                "requested_by": "NguoiYeuCau",
                "content": "NoiDung",
                "requested_at": "NgayYeuCau",
                "received_by": "NguoiTiepNhan",
                "receipt_info": "ThongTinTiepNhan",
                "received_at": "NgayTiepNhan",
                "status": "TrangThai",
                "papers": "GiayTo",
                "fees": "LePhi",
                "previous_appointment": "NgayHenTraTruoc",
                "new_appointment": "NgayHenTraMoi",
            },
            {"fees": FEE_PATHS},
        ),
        "results": PathMap(
            ResultPaper,
            {
                "name": "Ten",
                "component_code": "MaThanhPhan",
                "paper_id": "Id",
                "url": "DuongDan",
                "result_code": "MaGiayTo",
            },
        ),
        "progress": PathMap(
            ProgressEntry,
            {
                "handler": "NguoiXuLy",
                "title": "ChucDanh",
                "at": "ThoiDiem",
                "department": "PhongBan",
                "content": "NoiDung",
                "status": "TrangThai",
                "step_started_at": "NgayBatDau",
                "step_due_at": "NgayKetThucTheoQuyDinh",
                "unit_code": "MaDonVi",
            },
        ),
    },
)


# ----- source record → canonical -----


def _opt(value: Any) -> Any:
    """An optional scalar: None for absent, empty or blank; codes that arrive as numbers become text."""
    if value is None:
        return None
    if value.__class__ is str:
        return None if not value or value.isspace() else value
    if value is True or value is False:
        return value
    return str(value) if isinstance(value, int | Decimal) else value


def _req(value: Any) -> Any:
    """A required scalar: numbers become text; anything else goes to the canonical model to judge."""
    if isinstance(value, int | Decimal) and value is not True and value is not False:
        return str(value)
    return value


def _path(where: tuple[str, int] | str, key: str) -> str:
    if isinstance(where, str):
        return key
    return f"{where[0]}[{where[1]}].{key}"


def _when(value: Any, run: Any, where: tuple[str, int] | str, key: str) -> datetime | None:
    """A date of the record; the element path is built only when the value is refused."""
    if value is None:
        return None
    if value.__class__ is datetime and value.tzinfo is VN_TZ:
        return value
    try:
        return n.moment(value)
    except n.Invalid:
        return run(n.moment, value, _path(where, key))  # type: ignore[no-any-return]


def _flag(value: Any, run: Any, where: tuple[str, int], key: str) -> bool | None:
    """A file's yes/no flag; zeep already gives booleans, text forms go through the normaliser."""
    if value is True or value is False:
        return value
    try:
        return n.flag(value)
    except n.Invalid:
        return run(n.flag, value, _path(where, key))  # type: ignore[no-any-return]


def _items(container: Any, key: str) -> list[Any]:
    """The items of a wrapper element: ``{"TepDinhKem": [...]}``, a bare list (JSON), or nothing."""
    if container is None or container == "":
        return []
    if isinstance(container, Mapping):
        inner = container.get(key)
        if inner is None:
            return []
        return inner if isinstance(inner, list) else [inner]
    return container if isinstance(container, list) else [container]


def to_canonical(record: Mapping[str, Any], *, procedures: ProcedureLookup) -> Dossier:
    """The canonical dossier for a vendor record (zeep's serialisation or its JSON form).

    The local procedure code is looked up in ``procedures``; a mapped code fills the national code and the
    national field code and name. Every problem of the record is raised at once as
    :class:`hub.errors.ValidationFailed`, with the vendor's element paths and personal values redacted.
    """
    p = Problems()
    run = p.run
    t = tables()
    g = record.get
    code = n.text(g("MaHoSo"))
    local_code = run(n.code, g("MaThuTuc"), "MaThuTuc")
    mapped = procedures(local_code) if local_code else None

    applicant_raw = g("ChuHoSo")
    applicant: Any = applicant_raw
    if isinstance(applicant_raw, Mapping):
        a = applicant_raw.get
        applicant = {
            "name": _req(a("HoTen")),
            "kind": run(t.applicant_type.parse, a("LoaiDoiTuong") or 1, "ChuHoSo.LoaiDoiTuong"),
            "id_number": _opt(a("SoGiayTo")),
            "portal_account_id": _opt(a("MaDoiTuong")),
            "email": run(n.email, a("Email"), "ChuHoSo.Email", personal=True),
            "phone": run(n.phone, a("SoDienThoai"), "ChuHoSo.SoDienThoai", personal=True),
            "address": _opt(a("DiaChi")),
        }

    files = []
    for i, f in enumerate(_items(g("DanhSachTepDinhKem"), "TepDinhKem")):
        if not isinstance(f, Mapping):
            files.append(f)
            continue
        where = ("DanhSachTepDinhKem.TepDinhKem", i)
        files.append(
            {
                "file_id": _req(f.get("Id")),
                "name": f.get("Ten"),
                "component_code": _opt(f.get("MaThanhPhan")),
                "url": _opt(f.get("DuongDan")),
                "deleted": _flag(f.get("DaXoa"), run, where, "DaXoa"),
                "digitised": _flag(f.get("DuocSoHoa"), run, where, "DuocSoHoa"),
                "reused": _flag(f.get("DuocTaiSuDung"), run, where, "DuocTaiSuDung"),
                "from_national_store": _flag(f.get("LayTuKhoDMQG"), run, where, "LayTuKhoDMQG"),
            }
        )

    supplements = []
    for i, s in enumerate(_items(g("DanhSachBoSung"), "BoSung")):
        if not isinstance(s, Mapping):
            supplements.append(s)
            continue
        where = ("DanhSachBoSung.BoSung", i)
        papers = s.get("GiayTo") or ()
        supplements.append(
            {
                "round_id": _req(s.get("Id")),
                "requested_by": _opt(s.get("NguoiYeuCau")),
                "content": _opt(s.get("NoiDung")),
                "requested_at": _when(s.get("NgayYeuCau"), run, where, "NgayYeuCau"),
                "received_by": _opt(s.get("NguoiTiepNhan")),
                "receipt_info": _opt(s.get("ThongTinTiepNhan")),
                "received_at": _when(s.get("NgayTiepNhan"), run, where, "NgayTiepNhan"),
                "status": _opt(s.get("TrangThai")),
                "papers": [papers] if isinstance(papers, str) else papers,
                "previous_appointment": _when(s.get("NgayHenTraTruoc"), run, where, "NgayHenTraTruoc"),
                "new_appointment": _when(s.get("NgayHenTraMoi"), run, where, "NgayHenTraMoi"),
            }
        )

    progress = []
    for i, e in enumerate(_items(g("DanhSachTienDo"), "TienDo")):
        if not isinstance(e, Mapping):
            progress.append(e)
            continue
        where = ("DanhSachTienDo.TienDo", i)
        progress.append(
            {
                "handler": n.handler(e.get("NguoiXuLy")),
                "title": _opt(e.get("ChucDanh")),
                "at": _when(e.get("ThoiDiem"), run, where, "ThoiDiem"),
                "department": _opt(e.get("PhongBan")),
                "content": e.get("NoiDung"),
                "status": run(t.status.parse, e.get("TrangThai"), f"{where[0]}[{i}].TrangThai"),
                "step_started_at": _when(e.get("NgayBatDau"), run, where, "NgayBatDau"),
                "step_due_at": _when(e.get("NgayKetThucTheoQuyDinh"), run, where, "NgayKetThucTheoQuyDinh"),
                "unit_code": _opt(e.get("MaDonVi")),
            }
        )

    data = {
        "code": code,
        "receiving_unit": _req(g("MaDonViTiepNhan")),
        "processing_unit": _opt(g("MaDonViXuLy")),
        "local_procedure_code": local_code,
        "national_procedure_code": mapped.national_code if mapped else None,
        "procedure_name": g("TenThuTuc"),
        "field_code": (mapped.field_code if mapped and mapped.field_code else None) or _opt(g("MaLinhVuc")),
        "field_name": (mapped.field_name if mapped and mapped.field_name else None) or _opt(g("TenLinhVuc")),
        "service_level": run(t.service_level.parse_optional, g("MucDo"), "MucDo"),
        "receipt_number": _opt(g("SoBienNhan")),
        "channel": run(t.channel.parse, g("KenhThucHien"), "KenhThucHien"),
        "applicant": applicant,
        "summary": n.summary(g("TrichYeu")),
        "status": run(t.status.parse, g("TrangThai"), "TrangThai"),
        "submitted_at": _when(g("NgayNop"), run, "", "NgayNop"),
        "received_at": _when(g("NgayTiepNhan"), run, "", "NgayTiepNhan"),
        "appointment_at": _when(g("NgayHenTra"), run, "", "NgayHenTra"),
        "finished_at": _when(g("NgayKetThucXuLy"), run, "", "NgayKetThucXuLy"),
        "returned_at": _when(g("NgayTra"), run, "", "NgayTra"),
        "refused_at": _when(g("NgayTuChoi"), run, "", "NgayTuChoi"),
        "return_method": run(t.return_method.parse_optional, g("HinhThucTra"), "HinhThucTra"),
        "processing_unit_name": _opt(g("DonViXuLy")),
        "note": _opt(g("GhiChu")),
        "paid_online": run(n.optional_flag, g("ThanhToanTrucTuyen"), "ThanhToanTrucTuyen"),
        "files": files,
        "fees": [_fee(x) for x in _items(g("DanhSachLePhi"), "LePhi")],
        "other_papers": [_other_paper(x) for x in _items(g("DanhSachGiayToKhac"), "GiayTo")],
        "supplements": supplements,
        "results": [_result(x) for x in _items(g("DanhSachKetQua"), "KetQua")],
        "progress": progress,
        "version": g("PhienBan"),
        "updated_at": _when(g("NgayCapNhat"), run, "", "NgayCapNhat"),
    }
    return validate_dossier(data, p, PATHS, code)


def _fee(f: Any) -> Any:
    if not isinstance(f, Mapping):
        return f
    g = f.get
    return {
        "name": g("Ten"),
        "code": _opt(g("Ma")),
        "collection_method": _opt(g("HinhThucThu")),
        "amount": g("SoTien"),
        "kind": _opt(g("Loai")),
    }


def _other_paper(x: Any) -> Any:
    if not isinstance(x, Mapping):
        return x
    quantity = x.get("SoLuong")
    return {"name": x.get("Ten"), "quantity": 1 if quantity is None else quantity, "kind": _opt(x.get("Loai"))}


def _result(x: Any) -> Any:
    if not isinstance(x, Mapping):
        return x
    g = x.get
    return {
        "name": g("Ten"),
        "component_code": _opt(g("MaThanhPhan")),
        "paper_id": _opt(g("Id")),
        "url": _opt(g("DuongDan")),
        "result_code": _opt(g("MaGiayTo")),
    }


# ----- canonical → what goes back to a one-stop-shop -----


def _progress_item(e: ProgressEntry) -> dict[str, Any]:
    return {
        "NguoiXuLy": e.handler,
        "ChucDanh": e.title,
        "ThoiDiem": e.at,
        "PhongBan": e.department,
        "NoiDung": e.content,
        "TrangThai": int(e.status),
        "NgayBatDau": e.step_started_at,
        "NgayKetThucTheoQuyDinh": e.step_due_at,
        "MaDonVi": e.unit_code,
    }


def _fee_item(f: Fee) -> dict[str, Any]:
    return {"Ten": f.name, "Ma": f.code, "HinhThucThu": f.collection_method, "SoTien": f.amount, "Loai": f.kind}


def from_canonical(d: Dossier) -> dict[str, Any]:
    """The vendor's ``HoSo`` record for a canonical dossier, shaped like zeep's serialisation.

    Datetimes stay timezone-aware (zeep writes them with their offset), absent optionals are None and lists
    sit in their wrapper elements. The national procedure code has no place in the vendor's record: ``MaThuTuc``
    is always the local code. Supplement-round fees have no element in the contract and are not carried.
    """
    a = d.applicant
    return {
        "MaHoSo": d.code,
        "MaDonViTiepNhan": d.receiving_unit,
        "MaDonViXuLy": d.processing_unit,
        "MaThuTuc": d.local_procedure_code,
        "TenThuTuc": d.procedure_name,
        "MaLinhVuc": d.field_code,
        "TenLinhVuc": d.field_name,
        "MucDo": None if d.service_level is None else int(d.service_level),
        "SoBienNhan": d.receipt_number,
        "KenhThucHien": int(d.channel),
        "ChuHoSo": {
            "HoTen": a.name,
            "LoaiDoiTuong": int(a.kind),
            "SoGiayTo": a.id_number,
            "MaDoiTuong": a.portal_account_id,
            "Email": a.email,
            "SoDienThoai": a.phone,
            "DiaChi": a.address,
        },
        "TrichYeu": d.summary or None,
        "TrangThai": int(d.status),
        "NgayNop": d.submitted_at,
        "NgayTiepNhan": d.received_at,
        "NgayHenTra": d.appointment_at,
        "NgayKetThucXuLy": d.finished_at,
        "NgayTra": d.returned_at,
        "NgayTuChoi": d.refused_at,
        "HinhThucTra": None if d.return_method is None else int(d.return_method),
        "DonViXuLy": d.processing_unit_name,
        "GhiChu": d.note,
        "ThanhToanTrucTuyen": d.paid_online,
        "DanhSachTepDinhKem": {
            "TepDinhKem": [
                {
                    "Id": f.file_id,
                    "Ten": f.name,
                    "MaThanhPhan": f.component_code,
                    "DuongDan": f.url,
                    "DaXoa": f.deleted,
                    "DuocSoHoa": f.digitised,
                    "DuocTaiSuDung": f.reused,
                    "LayTuKhoDMQG": f.from_national_store,
                }
                for f in d.files
            ]
        },
        "DanhSachLePhi": {"LePhi": [_fee_item(f) for f in d.fees]},
        "DanhSachGiayToKhac": {
            "GiayTo": [{"Ten": o.name, "SoLuong": o.quantity, "Loai": o.kind} for o in d.other_papers]
        },
        "DanhSachBoSung": {
            "BoSung": [
                {
                    "Id": s.round_id,
                    "NguoiYeuCau": s.requested_by,
                    "NoiDung": s.content,
                    "NgayYeuCau": s.requested_at,
                    "NguoiTiepNhan": s.received_by,
                    "ThongTinTiepNhan": s.receipt_info,
                    "NgayTiepNhan": s.received_at,
                    "TrangThai": s.status,
                    "GiayTo": list(s.papers),
                    "NgayHenTraTruoc": s.previous_appointment,
                    "NgayHenTraMoi": s.new_appointment,
                }
                for s in d.supplements
            ]
        },
        "DanhSachKetQua": {
            "KetQua": [
                {
                    "Ten": r.name,
                    "MaThanhPhan": r.component_code,
                    "Id": r.paper_id,
                    "DuongDan": r.url,
                    "MaGiayTo": r.result_code,
                }
                for r in d.results
            ]
        },
        "DanhSachTienDo": {"TienDo": [_progress_item(e) for e in d.progress]},
        "PhienBan": d.version,
        "NgayCapNhat": d.updated_at,
    }


def status_of(record: Mapping[str, Any]) -> Status:
    """The status a copy says (``TrangThai``), read as :func:`to_canonical` reads it; :class:`ValidationFailed`
    naming the element when it says none the hub knows."""
    p = Problems()
    status = p.run(tables().status.parse, record.get("TrangThai"), "TrangThai")
    if status is None:
        raise ValidationFailed(p.items, dossier_code=n.text(record.get("MaHoSo")))
    return status


def to_status_update(
    d: Dossier, *, unit_code: str, sender_unit: str | None = None, progress_from: int = 0
) -> dict[str, Any]:
    """The ``CapNhatTrangThaiHoSo`` request that carries ``d``'s status and progress to another level's copy.

    ``unit_code`` is the unit whose copy is updated (usually the receiving commune), ``sender_unit`` the unit
    that decided; ``PhienBanNguon`` is ``d.version`` so the receiver ignores stale calls. ``progress_from``
    skips entries the receiver already has (it also drops exact repeats itself).
    """
    return {
        "MaDonVi": unit_code,
        "MaHoSo": d.code,
        "TrangThai": int(d.status),
        "PhienBanNguon": d.version,
        "MaDonViGui": sender_unit,
        "NgayKetThucXuLy": d.finished_at,
        "NgayTra": d.returned_at,
        "DanhSachTienDo": {"TienDo": [_progress_item(e) for e in d.progress[progress_from:]]},
    }
