"""A status update in a vendor's own request shape, shaped by its profile's ``requests.update`` (pure functions).

The hub's update of a unit's copy is one record in the default contract's shape (``CapNhatTrangThaiHoSo``:
``MaHoSo``, ``TrangThai``, ``PhienBanNguon``, ``MaDonViGui``, dates and the new ``DanhSachTienDo``). A vendor whose
update takes that record under its own names gets it reshaped by ``record.fields`` (:func:`mappings.vendors.
from_default`). A vendor whose update is flat (dossier number, status, note, officer, time) or a JSON body names
each role's element in ``requests.update``: its status is written in the vendor's own word (the reverse of its code
table), times in its format, and the newest progress entry gives the note, the officer and the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mappings.vendors import RequestValue, VendorProfile, from_default, set_path

# The key a delivery adds to an update record when it read the copy first: the copy's revision (PhienBan) then. A
# vendor whose update takes an expected revision refuses the update when the copy changed since, which closes the
# window between the hub's look-up and its update; for any other vendor it is dropped here.
EXPECTED_VERSION: Final = "PhienBanHienTai"


def update_request(update: Mapping[str, Any], vendor: VendorProfile, *, unit_code: str) -> dict[str, Any]:
    """The request body of ``vendor``'s update operation for one default-shaped update record."""
    spec = vendor.requests.update
    record = {k: v for k, v in update.items() if k != EXPECTED_VERSION}
    if spec.code is None:
        body: dict[str, Any] = dict(from_default(record, vendor))
        _write(body, spec.unit, unit_code)
        for element, constant in spec.constants.items():
            set_path(body, element, constant)
        return body
    steps = (record.get("DanhSachTienDo") or {}).get("TienDo") or []
    newest: Mapping[str, Any] = steps[-1] if steps else {}
    values: list[tuple[RequestValue | None, Any]] = [
        (spec.unit, unit_code),
        (spec.code, record.get("MaHoSo")),
        (spec.status, status_word(record.get("TrangThai"), vendor)),
        (spec.version, record.get("PhienBanNguon")),
        (spec.sender, record.get("MaDonViGui")),
        (spec.note, newest.get("NoiDung")),
        (spec.officer, newest.get("NguoiXuLy")),
        (spec.time, newest.get("ThoiDiem")),
        (spec.finished_at, record.get("NgayKetThucXuLy")),
        (spec.returned_at, record.get("NgayTra")),
        (spec.expected_version, update.get(EXPECTED_VERSION)),
    ]
    body = {}
    for value_spec, value in values:
        _write(body, value_spec, value)
    for element, constant in spec.constants.items():
        set_path(body, element, constant)
    return body


def status_word(status: Any, vendor: VendorProfile) -> Any:
    """The national status number in the vendor's own word (the first of its ``codes.status`` spellings), or the
    number itself for a vendor that speaks the national codes."""
    if status is None:
        return None
    words = vendor.codes.get("status", {}).get(int(status))
    return words[0] if words else int(status)


def _write(body: dict[str, Any], spec: RequestValue | None, value: Any) -> None:
    if spec is not None and value is not None:
        set_path(body, spec.element, spec.write(value))
