"""Canonical dossier ⇄ the national portal's payloads (``docs/domain/dvcqg-contract.md``).

:func:`to_portal` builds one ``DongBoHoSoMC`` item and :func:`progress_to_portal` the ``CapNhatTienDoHoSoMC``
entries (the connector splits them into calls of at most ten). Dates are ``yyyyMMddHHmmss`` in UTC+7 and ""
when unknown, codes and numbers travel as strings, flags as "0"/"1". :func:`from_portal` reads an item back
(``TraCuuHoSo`` answers, and the round-trip property test); fields the portal does not carry (the receiving
unit, the local procedure code, the source's revision) come from the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from foundation.clock import VN_TZ
from mappings import normalize as n
from mappings.canonical import Applicant, Dossier, Fee, ProgressEntry
from mappings.errors import MappingMissing
from mappings.problems import PathMap, Problems, validate_dossier
from mappings.procedures import ProcedureLookup
from mappings.tables import tables

CITIZEN_ID_12: Final = "1"  # LoaiDinhDanh: 12-digit citizen identity number (CCCD)
OLD_ID_9: Final = "2"  # LoaiDinhDanh: 9-digit identity card (CMND)


def portal_time(value: datetime | None) -> str:
    """``yyyyMMddHHmmss`` in Vietnam time; "" when unknown."""
    if value is None:
        return ""
    if value.tzinfo is not VN_TZ:
        value = value.astimezone(VN_TZ)
    # %-formatting of the fields is several times cheaper than strftime on the hot path
    return "%04d%02d%02d%02d%02d%02d" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
    )


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")


def _amount(value: Decimal) -> str:
    return format(value, "f")


def _fee(f: Fee) -> dict[str, str]:
    return {
        "TenPhiLePhi": f.name,
        "MaPhiLePhi": _s(f.code),
        "HinhThucThu": _s(f.collection_method),
        "Gia": _amount(f.amount),
        "LoaiPhiLePhi": _s(f.kind),
    }


def identity_documents(id_number: str | None) -> list[dict[str, str]]:
    """DinhDanhCHS: a 12-digit citizen ID is type 1, a 9-digit old ID type 2; other numbers (tax codes) none."""
    if id_number is None or not id_number.isdigit():
        return []
    if len(id_number) == 12:
        return [{"LoaiDinhDanh": CITIZEN_ID_12, "SoDinhDanh": id_number}]
    if len(id_number) == 9:
        return [{"LoaiDinhDanh": OLD_ID_9, "SoDinhDanh": id_number}]
    return []


def with_national_code(dossier: Dossier, procedures: ProcedureLookup) -> Dossier:
    """The dossier with its national procedure code, from the mapping table when the source did not carry it."""
    if dossier.national_procedure_code:
        return dossier
    found = procedures(dossier.local_procedure_code)
    refresh = getattr(procedures, "refresh", None)
    if found is None and refresh is not None:
        # A cached table (the hub's) may miss a mapping another process added since (fix, then replay).
        refresh()
        found = procedures(dossier.local_procedure_code)
    if found is None:
        raise MappingMissing(dossier.local_procedure_code, dossier_code=dossier.code)
    return dossier.model_copy(
        update={
            "national_procedure_code": found.national_code,
            "field_code": dossier.field_code or found.field_code,
            "field_name": dossier.field_name or found.field_name,
        }
    )


def to_portal(d: Dossier, *, source_version: bool = False) -> dict[str, Any]:
    """One ``DongBoHoSoMC`` item for ``d``; :class:`MappingMissing` when its procedure has no national code.

    ``source_version=True`` adds ``PhienBanNguon`` (the source's revision), which the portal ignores and the
    simulator uses to count pushes per revision.
    """
    if d.national_procedure_code is None:
        raise MappingMissing(d.local_procedure_code, dossier_code=d.code)
    a = d.applicant
    t = portal_time
    item: dict[str, Any] = {
        "MaHoSo": d.code,
        "MaTTHC": d.national_procedure_code,
        "TenTTHC": d.procedure_name,
        "MaLinhVuc": _s(d.field_code),
        "TenLinhVuc": _s(d.field_name),
        "SoBienNhan": _s(d.receipt_number),
        "KenhThucHien": str(d.channel.value),
        "ChuHoSo": a.name,
        "SoGiayToChuHoSo": _s(a.id_number),
        "LoaiDoiTuong": str(a.kind.value),
        "MaDoiTuong": _s(a.portal_account_id),
        "ThongTinKhac": _s(a.address),
        "Email": _s(a.email),
        "Fax": _s(a.fax),
        "SoDienThoai": _s(a.phone),
        "TrichYeuHoSo": d.summary,
        "NgayTiepNhan": t(d.received_at),
        "NgayHenTra": t(d.appointment_at),
        "NgayTra": t(d.returned_at),
        "NgayKetThucXuLy": t(d.finished_at),
        "TrangThaiHoSo": str(d.status.value),
        "ThongTinTra": _s(d.return_info),
        "HinhThuc": "" if d.return_method is None else str(d.return_method.value),
        "DonViXuLy": _s(d.processing_unit_name),
        "GhiChu": _s(d.note),
        "TaiLieuNop": [
            {
                "TepDinhKemId": f.file_id,
                "TenTepDinhKem": f.name,
                "IsDeleted": "1" if f.deleted else "0",
                "MaThanhPhanHoSo": _s(f.component_code),
                "DuongDanTaiTepTin": _s(f.url),
                "DuocSoHoa": "1" if f.digitised else "0",
                "DuocTaiSuDung": "1" if f.reused else "0",
                "DuocLayTuKhoDMQG": "1" if f.from_national_store else "0",
            }
            for f in d.files
        ],
        "DanhSachLePhi": [_fee(f) for f in d.fees],
        "DanhSachTepDinhKemKhac": [
            {"TenGiayTo": o.name, "SoLuong": str(o.quantity), "LoaiGiayTo": _s(o.kind)} for o in d.other_papers
        ],
        "DanhSachHoSoBoSung": [
            {
                "HoSoBoSungId": s.round_id,
                "NguoiYeuCauBoSung": _s(s.requested_by),
                "NoiDungBoSung": _s(s.content),
                "NgayBoSung": t(s.requested_at),
                "NguoiTiepNhanBoSung": _s(s.received_by),
                "ThongTinTiepNhan": _s(s.receipt_info),
                "NgayTiepNhanBoSung": t(s.received_at),
                "TrangThaiBoSung": _s(s.status),
                "DanhSachGiayToBoSung": [{"TenGiayTo": p} for p in s.papers],
                "DanhSachLePhiBoSung": [_fee(f) for f in s.fees],
                "NgayHenTraTruoc": t(s.previous_appointment),
                "NgayHenTraMoi": t(s.new_appointment),
            }
            for s in d.supplements
        ],
        "DanhSachGiayToKetQua": [
            {
                "TenGiayTo": r.name,
                "MaThanhPhanHoSo": _s(r.component_code),
                "GiayToId": _s(r.paper_id),
                "DuongDanTepTinKetQua": _s(r.url),
                "MaGiayToKetQua": _s(r.result_code),
            }
            for r in d.results
        ],
        "NoiNopHoSo": _s(d.submission_place),
        "HoSoCoThanhPhanSoHoa": "1" if any(f.digitised for f in d.files) else "0",
        "TaiKhoanDuocXacThucVoiVNeID": _flag(a.vneid_verified),
        "DuocThanhToanTrucTuyen": _flag(d.paid_online),
        "NgayTuChoi": t(d.refused_at),
        "NgayNopHoSo": t(d.submitted_at),
    }
    documents = identity_documents(a.id_number)
    if documents:
        item["DinhDanhCHS"] = documents
    if source_version:
        item["PhienBanNguon"] = str(d.version)
    return item


def progress_entry_to_portal(code: str, e: ProgressEntry) -> dict[str, str]:
    """One ``CapNhatTienDoHoSoMC`` entry."""
    return {
        "MaHoSo": code,
        "NguoiXuLy": e.handler,
        "ChucDanh": _s(e.title),
        "ThoiDiemXuLy": portal_time(e.at),
        "PhongBanXuLy": _s(e.department),
        "NoiDungXuLy": e.content,
        "TrangThai": str(e.status.value),
        "NgayBatDau": portal_time(e.step_started_at),
        "NgayKetThucTheoQuyDinh": portal_time(e.step_due_at),
    }


def progress_to_portal(d: Dossier, entries: Iterable[ProgressEntry] | None = None) -> list[dict[str, str]]:
    """``CapNhatTienDoHoSoMC`` entries for ``entries`` (all of ``d``'s progress by default), oldest first."""
    return [progress_entry_to_portal(d.code, e) for e in (d.progress if entries is None else entries)]


# ----- portal item → canonical -----

_FEE_PATHS: Final = PathMap(
    Fee, {"name": "TenPhiLePhi", "code": "MaPhiLePhi", "collection_method": "HinhThucThu", "amount": "Gia",
          "kind": "LoaiPhiLePhi"},
)  # fmt: skip
PORTAL_PATHS: Final = PathMap(
    Dossier,
    {
        "code": "MaHoSo",
        "national_procedure_code": "MaTTHC",
        "procedure_name": "TenTTHC",
        "field_code": "MaLinhVuc",
        "field_name": "TenLinhVuc",
        "receipt_number": "SoBienNhan",
        "channel": "KenhThucHien",
        "applicant": "ChuHoSo",
        "summary": "TrichYeuHoSo",
        "status": "TrangThaiHoSo",
        "received_at": "NgayTiepNhan",
        "appointment_at": "NgayHenTra",
        "returned_at": "NgayTra",
        "finished_at": "NgayKetThucXuLy",
        "return_info": "ThongTinTra",
        "return_method": "HinhThuc",
        "processing_unit_name": "DonViXuLy",
        "note": "GhiChu",
        "submission_place": "NoiNopHoSo",
        "paid_online": "DuocThanhToanTrucTuyen",
        "refused_at": "NgayTuChoi",
        "submitted_at": "NgayNopHoSo",
        "files": "TaiLieuNop",
        "fees": "DanhSachLePhi",
        "other_papers": "DanhSachTepDinhKemKhac",
        "supplements": "DanhSachHoSoBoSung",
        "results": "DanhSachGiayToKetQua",
        "progress": "TienDo",
    },
    {
        "applicant": PathMap(
            Applicant,
            {
                "name": "ChuHoSo",
                "kind": "LoaiDoiTuong",
                "id_number": "SoGiayToChuHoSo",
                "portal_account_id": "MaDoiTuong",
                "email": "Email",
                "fax": "Fax",
                "phone": "SoDienThoai",
                "address": "ThongTinKhac",
                "vneid_verified": "TaiKhoanDuocXacThucVoiVNeID",
            },
        ),
        "fees": _FEE_PATHS,
    },
)


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _fee_from(f: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": f.get("TenPhiLePhi"),
        "code": n.text(f.get("MaPhiLePhi")),
        "collection_method": n.text(f.get("HinhThucThu")),
        "amount": f.get("Gia"),
        "kind": n.text(f.get("LoaiPhiLePhi")),
    }


def from_portal(
    item: Mapping[str, Any],
    *,
    receiving_unit: str,
    local_procedure_code: str | None = None,
    version: int = 1,
    updated_at: datetime | None = None,
    progress: Sequence[Mapping[str, Any]] = (),
    processing_unit: str | None = None,
) -> Dossier:
    """The canonical dossier for a portal item (and its ``CapNhatTienDoHoSoMC`` entries, if known).

    The portal does not carry the receiving unit, the local procedure code (the national one stands in when
    it is not given) or the source's revision; ``updated_at`` defaults to the latest date in the item.
    """
    p = Problems()
    run = p.run
    moment = n.moment
    t = tables()
    g = item.get
    code = n.text(g("MaHoSo"))
    national = n.code(g("MaTTHC"))
    file_flags = ("IsDeleted", "DuocSoHoa", "DuocTaiSuDung", "DuocLayTuKhoDMQG")
    files = []
    for i, f in enumerate(_list(g("TaiLieuNop"))):
        where = f"TaiLieuNop[{i}]."
        deleted, digitised, reused, national_store = (run(n.flag, f.get(k), where + k) for k in file_flags)
        files.append(
            {
                "file_id": f.get("TepDinhKemId"),
                "name": f.get("TenTepDinhKem"),
                "component_code": n.text(f.get("MaThanhPhanHoSo")),
                "url": n.text(f.get("DuongDanTaiTepTin")),
                "deleted": deleted,
                "digitised": digitised,
                "reused": reused,
                "from_national_store": national_store,
            }
        )
    supplements = []
    for i, s in enumerate(_list(g("DanhSachHoSoBoSung"))):
        where = f"DanhSachHoSoBoSung[{i}]."
        supplements.append(
            {
                "round_id": s.get("HoSoBoSungId"),
                "requested_by": n.text(s.get("NguoiYeuCauBoSung")),
                "content": n.text(s.get("NoiDungBoSung")),
                "requested_at": run(moment, s.get("NgayBoSung"), where + "NgayBoSung"),
                "received_by": n.text(s.get("NguoiTiepNhanBoSung")),
                "receipt_info": n.text(s.get("ThongTinTiepNhan")),
                "received_at": run(moment, s.get("NgayTiepNhanBoSung"), where + "NgayTiepNhanBoSung"),
                "status": n.text(s.get("TrangThaiBoSung")),
                "papers": [x.get("TenGiayTo") if isinstance(x, Mapping) else x
                           for x in _list(s.get("DanhSachGiayToBoSung"))],
                "fees": [_fee_from(f) for f in _list(s.get("DanhSachLePhiBoSung"))],
                "previous_appointment": run(moment, s.get("NgayHenTraTruoc"), where + "NgayHenTraTruoc"),
                "new_appointment": run(moment, s.get("NgayHenTraMoi"), where + "NgayHenTraMoi"),
            }
        )  # fmt: skip
    entries = []
    for i, e in enumerate(progress):
        where = f"TienDo[{i}]."
        entries.append(
            {
                "handler": n.handler(e.get("NguoiXuLy")),
                "title": n.text(e.get("ChucDanh")),
                "at": run(moment, e.get("ThoiDiemXuLy"), where + "ThoiDiemXuLy"),
                "department": n.text(e.get("PhongBanXuLy")),
                "content": e.get("NoiDungXuLy"),
                "status": run(t.status.parse, e.get("TrangThai"), where + "TrangThai"),
                "step_started_at": run(moment, e.get("NgayBatDau"), where + "NgayBatDau"),
                "step_due_at": run(moment, e.get("NgayKetThucTheoQuyDinh"), where + "NgayKetThucTheoQuyDinh"),
            }
        )
    dates = {
        key: run(moment, g(source), source)
        for key, source in (
            ("submitted_at", "NgayNopHoSo"),
            ("received_at", "NgayTiepNhan"),
            ("appointment_at", "NgayHenTra"),
            ("finished_at", "NgayKetThucXuLy"),
            ("returned_at", "NgayTra"),
            ("refused_at", "NgayTuChoi"),
        )
    }
    if updated_at is None:
        known: list[datetime] = [v for v in dates.values() if v is not None]
        known += [e["at"] for e in entries if isinstance(e["at"], datetime)]
        updated_at = max(known) if known else None
    data = {
        "code": code,
        "receiving_unit": receiving_unit,
        "processing_unit": processing_unit,
        "local_procedure_code": local_procedure_code or national,
        "national_procedure_code": national,
        "procedure_name": g("TenTTHC"),
        "field_code": n.text(g("MaLinhVuc")),
        "field_name": n.text(g("TenLinhVuc")),
        "receipt_number": n.text(g("SoBienNhan")),
        "channel": run(t.channel.parse, g("KenhThucHien"), "KenhThucHien"),
        "applicant": {
            "name": g("ChuHoSo"),
            "kind": run(t.applicant_type.parse, g("LoaiDoiTuong") or 1, "LoaiDoiTuong"),
            "id_number": n.text(g("SoGiayToChuHoSo")),
            "portal_account_id": n.text(g("MaDoiTuong")),
            "email": n.text(g("Email")),
            "fax": n.text(g("Fax")),
            "phone": n.text(g("SoDienThoai")),
            "address": n.text(g("ThongTinKhac")),
            "vneid_verified": run(n.optional_flag, g("TaiKhoanDuocXacThucVoiVNeID"), "TaiKhoanDuocXacThucVoiVNeID"),
        },
        "summary": n.summary(g("TrichYeuHoSo")),
        "status": run(t.status.parse, g("TrangThaiHoSo"), "TrangThaiHoSo"),
        **dates,
        "return_info": n.text(g("ThongTinTra")),
        "return_method": run(t.return_method.parse_optional, g("HinhThuc"), "HinhThuc"),
        "processing_unit_name": n.text(g("DonViXuLy")),
        "note": n.text(g("GhiChu")),
        "submission_place": n.text(g("NoiNopHoSo")),
        "paid_online": run(n.optional_flag, g("DuocThanhToanTrucTuyen"), "DuocThanhToanTrucTuyen"),
        "files": files,
        "fees": [_fee_from(f) for f in _list(g("DanhSachLePhi"))],
        "other_papers": [
            {"name": o.get("TenGiayTo"), "quantity": o.get("SoLuong") or 1, "kind": n.text(o.get("LoaiGiayTo"))}
            for o in _list(g("DanhSachTepDinhKemKhac"))
        ],
        "supplements": supplements,
        "results": [
            {
                "name": r.get("TenGiayTo"),
                "component_code": n.text(r.get("MaThanhPhanHoSo")),
                "paper_id": n.text(r.get("GiayToId")),
                "url": n.text(r.get("DuongDanTepTinKetQua")),
                "result_code": n.text(r.get("MaGiayToKetQua")),
            }
            for r in _list(g("DanhSachGiayToKetQua"))
        ],
        "progress": entries,
        "version": version,
        "updated_at": updated_at,
    }
    return validate_dossier(data, p, PORTAL_PATHS, code)
