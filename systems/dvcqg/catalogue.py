"""The national portal's catalogues as the hub reads them: the procedure catalogue (``LayDanhSachTTHC``), the agency
catalogue (``LayDanhMucCoQuan``), and the status field of a dossier's copy (``TrangThaiHoSo``).

Field names are read through small alias tables because the portal's catalogue payloads are *unconfirmed*
(docs/domain/dvcqg-contract.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import RawRecord
from foundation.errors import ConfigurationError, Problem
from mappings.codes import Status
from mappings.errors import ValidationFailed
from systems.errors import CatalogueRecordInvalid
from systems.kind import CatalogueEntry

PROCEDURE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "code": ("MaTTHC", "maTTHC", "MaThuTuc"),
    "name": ("TenTTHC", "tenTTHC", "TenThuTuc"),
    "field_code": ("MaLinhVuc", "maLinhVuc"),
    "field_name": ("TenLinhVuc", "tenLinhVuc"),
    "level": ("MucDo", "MucDoDVC", "CapDo"),
}
AGENCY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "code": ("MaCoQuan", "MaDonVi", "maDonVi", "code"),
    "name": ("TenCoQuan", "TenDonVi", "tenDonVi", "name"),
    "parent_code": ("MaCoQuanCha", "MaDonViCha", "parentCode"),
    "level": ("CapDonVi", "Cap", "level"),
}
COPY_STATUS = "TrangThaiHoSo"  # the status of the portal's copy of a dossier, as its look-up answers


def read(portal: Any, catalogue: str) -> Sequence[CatalogueEntry]:
    """The entries of ``catalogue`` ("procedures" or "agencies") as ``portal``'s connector lists them."""
    if catalogue == "procedures":
        return entries(portal.procedures(), PROCEDURE_FIELDS, "LayDanhSachTTHC")
    if catalogue == "agencies":
        agencies = getattr(portal, "agencies", None)
        if agencies is None:
            raise ConfigurationError(
                f"Kết nối cổng {type(portal).__name__} chưa hỗ trợ danh mục cơ quan LayDanhMucCoQuan "
                f"(the portal connector offers no agencies() call)"
            )
        return entries(agencies(), AGENCY_FIELDS, "LayDanhMucCoQuan")
    raise ConfigurationError(f"Không có danh mục {catalogue!r} (no catalogue {catalogue!r})")


def entries(records: Sequence[RawRecord], fields: Mapping[str, tuple[str, ...]], service: str) -> list[CatalogueEntry]:
    """Each record's code, name and other columns; :class:`CatalogueRecordInvalid` for one without code or name."""
    out: list[CatalogueEntry] = []
    for i, record in enumerate(records):
        values = {name: _first(record, aliases) for name, aliases in fields.items()}
        code, name = values.pop("code"), values.pop("name")
        if not code or not name:
            raise CatalogueRecordInvalid(
                f"{service}: bản ghi thứ {i} thiếu mã hoặc tên (record {i} has no code or name): {sorted(record)}",
                service=service,
                index=i,
            )
        out.append(CatalogueEntry(code=code, name=name, columns=values, data=dict(record)))
    return out


def copy_status(copy: RawRecord) -> Status:
    """The status the portal's copy says; :class:`ValidationFailed` naming the field when it says none we know."""
    try:
        return Status.parse(copy.get(COPY_STATUS))
    except ValueError as exc:
        raise ValidationFailed(
            [Problem(COPY_STATUS, "trạng thái không rõ", "unknown status", value=str(copy.get(COPY_STATUS)))],
            dossier_code=str(copy.get("MaHoSo") or ""),
        ) from exc


def _first(record: RawRecord, aliases: tuple[str, ...]) -> str | None:
    for alias in aliases:
        value = record.get(alias)
        if value not in (None, ""):
            return str(value).strip()
    return None
