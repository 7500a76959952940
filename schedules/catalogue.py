"""The daily catalogue refreshes: the national procedure catalogue (``LayDanhSachTTHC``) and the portal's agency
catalogue (``LayDanhMucCoQuan``), kept in ``catalogue_procedures`` and ``catalogue_agencies``.

Each refresh upserts every record the portal returns and marks the rows it no longer lists inactive (never deleted:
old dossiers keep pointing at them). An empty answer changes nothing: a portal that answers "no procedures" is
far more likely broken than empty, and deactivating the whole catalogue would hide every procedure's name.
Field names are read through small alias tables because the portal's catalogue payloads are *unconfirmed*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select, update

from foundation.clock import utcnow
from foundation.errors import ConfigurationError
from hub.store.db import Database
from schedules.errors import CatalogueRecordInvalid
from schedules.models import CatalogueAgency, CatalogueProcedure, CatalogueRow

# One record of a catalogue answer, as the portal connector returns it (field name -> value).
RawRecord = Mapping[str, Any]

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


class ProcedureCatalogue(Protocol):
    """The portal connector's procedure catalogue call."""

    def procedures(self, unit_code: str | None = None, **params: Any) -> Sequence[RawRecord]: ...


@dataclass(frozen=True, slots=True)
class RefreshResult:
    seen: int
    added: int
    deactivated: int

    def __str__(self) -> str:
        return f"{self.seen} bản ghi (records), {self.added} mới (new), {self.deactivated} ngừng (no longer listed)"


def refresh_procedures(db: Database, portal: ProcedureCatalogue) -> RefreshResult:
    """Refresh ``catalogue_procedures`` from ``LayDanhSachTTHC``."""
    return _refresh(db, CatalogueProcedure, PROCEDURE_FIELDS, portal.procedures(), "LayDanhSachTTHC")


def refresh_agencies(db: Database, portal: object) -> RefreshResult:
    """Refresh ``catalogue_agencies`` from ``LayDanhMucCoQuan``; the portal connector must offer ``agencies()``."""
    agencies = getattr(portal, "agencies", None)
    if agencies is None:
        raise ConfigurationError(
            f"Kết nối cổng {type(portal).__name__} chưa hỗ trợ danh mục cơ quan LayDanhMucCoQuan "
            f"(the portal connector offers no agencies() call)"
        )
    records: Sequence[RawRecord] = agencies()
    return _refresh(db, CatalogueAgency, AGENCY_FIELDS, records, "LayDanhMucCoQuan")


def _refresh(
    db: Database,
    model: type[CatalogueRow],
    fields: Mapping[str, tuple[str, ...]],
    records: Iterable[RawRecord],
    service: str,
) -> RefreshResult:
    rows: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(records):
        values = {name: _first(record, aliases) for name, aliases in fields.items()}
        if not values["code"] or not values["name"]:
            raise CatalogueRecordInvalid(
                f"{service}: bản ghi thứ {i} thiếu mã hoặc tên (record {i} has no code or name): {sorted(record)}",
                service=service,
                index=i,
            )
        rows[str(values["code"])] = {**values, "code": str(values["code"]), "data": dict(record)}
    if not rows:
        return RefreshResult(0, 0, 0)
    now = utcnow()
    with db.session() as session:
        existing = {row.code: row for row in session.scalars(select(model))}
        added = 0
        for code, values in rows.items():
            row = existing.get(code)
            if row is None:
                session.add(model(**values, active=True, first_seen_at=now, seen_at=now))  # type: ignore[call-arg]
                added += 1
                continue
            for key, value in values.items():
                setattr(row, key, value)
            row.active = True
            row.seen_at = now
        gone = [code for code, row in existing.items() if row.active and code not in rows]
        if gone:
            session.execute(update(model).where(model.code.in_(gone)).values(active=False))
    return RefreshResult(seen=len(rows), added=added, deactivated=len(gone))


def _first(record: RawRecord, aliases: tuple[str, ...]) -> str | None:
    for alias in aliases:
        value = record.get(alias)
        if value not in (None, ""):
            return str(value).strip()
    return None
