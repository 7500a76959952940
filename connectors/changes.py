"""What the profile-driven connectors (SOAP and JSON) share: request bodies written in the vendor's value formats,
change-feed entries read with the vendor's time converter, and the feed's facts handed to the record mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from connectors.base import ChangePage, ChangeRef
from connectors.errors import RemoteRejected
from mappings.vendors import ChangesResponse, RequestValue, VendorProfile, get_path, set_path


@runtime_checkable
class ProfiledSource(Protocol):
    """A source described by a vendor profile, which can also show a record as the vendor sent it (the probe)."""

    vendor: VendorProfile

    def fetch_changes(self, unit_code: str, since: datetime, token: str | None = None) -> ChangePage: ...

    def raw_dossier(self, unit_code: str, dossier_code: str) -> Mapping[str, Any]:
        """The dossier in the vendor's own shape and names."""
        ...

    def read_saved(self, payload: bytes) -> Mapping[str, Any]:
        """A saved answer of the dossier operation, read as :meth:`raw_dossier` reads a live one."""
        ...


def request_body(request: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The request's elements: each role's value in the vendor's format, then the profile's constants.

    A role the profile does not name is not sent; a None value leaves its element out (optional elements). A dotted
    element (``boLoc.maCoQuan``) is nested, as a SOAP request with a complex filter element wants it.
    """
    body: dict[str, Any] = {}
    for role, value in values.items():
        spec = getattr(request, role, None)
        if isinstance(spec, RequestValue) and value is not None:
            set_path(body, spec.element, spec.write(value))
    for element, constant in request.constants.items():
        set_path(body, element, constant)
    return body


def change_ref(item: Any, shape: ChangesResponse) -> ChangeRef:
    """One feed entry; its change time goes through the profile's converter and must end up timezone-aware."""
    raw_time = get_path(item, shape.updated_at)
    moment = shape.times.read(raw_time)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise RemoteRejected(
            f"Thời điểm cập nhật {raw_time!r} thiếu múi giờ hoặc sai định dạng (responses.changes.times) / "
            "the change feed gave a time without an offset or in an unknown format",
            remote_message=repr(raw_time),
        )
    return ChangeRef(
        dossier_code=str(get_path(item, shape.code)),
        updated_at=moment,
        version=int(get_path(item, shape.version)),
    )


def feed_of(seen: ChangeRef | None) -> dict[str, Any] | None:
    """The change feed's facts about a revision, for records that do not carry them (``record.from_feed``)."""
    if seen is None:
        return None
    return {"updated_at": seen.updated_at, "version": seen.version}
