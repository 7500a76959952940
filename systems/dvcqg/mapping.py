"""Canonical dossier ⇄ the national portal's payloads (``docs/domain/dvcqg-contract.md``).

:func:`to_portal` builds one ``DongBoHoSoMC`` item and :func:`progress_to_portal` the ``CapNhatTienDoHoSoMC``
entries (the connector splits them into calls of at most ten). Dates are ``yyyyMMddHHmmss`` in UTC+7 and ""
when unknown, codes and numbers travel as strings, flags as "0"/"1".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from foundation.clock import VN_TZ
from foundation.errors import Problem
from mappings.canonical import Dossier, Fee, ProgressEntry
from mappings.codes import Status
from mappings.errors import MappingMissing, ValidationFailed
from mappings.procedures import ProcedureLookup

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


def status_of(record: Mapping[str, Any]) -> Status:
    """The status the portal's copy says (``TrangThaiHoSo``); :class:`ValidationFailed` naming the field when it
    says none the hub knows."""
    raw = record.get("TrangThaiHoSo")
    try:
        return Status.parse(raw)
    except ValueError:
        problem = Problem("TrangThaiHoSo", "trạng thái không rõ", "unknown status", value=str(raw))
        raise ValidationFailed([problem], dossier_code=_s(record.get("MaHoSo")) or None) from None
