"""Which mapping serves which kind of system: the glue between the pipeline and ``mappings/``.

The pipeline only says "this raw record came from system S" and "this dossier goes to target T"; this module picks
the pure mapping functions for S's and T's kinds, fills in what the mappings need from the hub's state (the
procedure-code mapping, the progress entries a target has not seen yet), and builds the redacted view of what is
sent for the integration log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.base import RawRecord
from hub.context import HubContext
from hub.errors import ConfigurationError, MappingMissing
from hub.topology import ConnectorKind, System
from mappings.canonical import Dossier, ProgressEntry

PORTAL_KINDS = frozenset({ConnectorKind.DVCQG_SESSION, ConnectorKind.DVCQG_URL, ConnectorKind.DVCQG_LGSP})
PERSONAL_KEYS = frozenset(
    {
        "ChuHoSo",
        "SoGiayToChuHoSo",
        "Email",
        "Fax",
        "SoDienThoai",
        "ThongTinKhac",
        "DinhDanhCHS",
        "HoTen",
        "SoGiayTo",
        "DiaChi",
        "SoDinhDanh",
    }
)


@dataclass(frozen=True)
class Outgoing:
    """What a delivery sends: the record for the target, and the progress entries it has not seen yet."""

    record: RawRecord
    progress: list[RawRecord] = field(default_factory=list)

    def request_log(self, *, redacted: bool = False) -> dict[str, Any]:
        """What is sent, as JSON-ready data for the integration log (the redacted view hides personal data)."""
        body: dict[str, Any] = jsonable({"record": self.record, "progress": self.progress})
        if redacted:
            hidden: dict[str, Any] = redact_record(body)
            return hidden
        return body


def jsonable(value: Any) -> Any:
    """``value`` with dates, decimals and other wire types as JSON strings, for the integration log."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def redact_record(value: Any) -> Any:
    """A copy of a wire record with every personal field (by its wire name) replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: ("***" if k in PERSONAL_KEYS and v not in (None, "", []) else redact_record(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_record(v) for v in value]
    return value


def to_canonical(ctx: HubContext, system_name: str, raw: RawRecord) -> Dossier:
    """A source's record as a canonical dossier (the source's own kind decides the mapping)."""
    from mappings import motcua

    system = ctx.topology.systems[system_name]
    if system.kind in (ConnectorKind.SOAP, ConnectorKind.FAKE):
        return motcua.to_canonical(raw, procedures=ctx.procedures)
    raise ConfigurationError(f"Hệ thống {system_name} ({system.kind}) không phải nguồn hồ sơ (not a dossier source)")


def _new_progress(dossier: Dossier, previous: Dossier | None) -> list[ProgressEntry]:
    known = {e.identity for e in previous.progress} if previous else set()
    return [e for e in dossier.progress if e.identity not in known]


def with_national_code(ctx: HubContext, dossier: Dossier) -> Dossier:
    """The dossier with its national procedure code, from the mapping table when the source did not carry it."""
    if dossier.national_procedure_code:
        return dossier
    found = ctx.procedures(dossier.local_procedure_code)
    if found is None and hasattr(ctx.procedures, "refresh"):
        # Another process may have added the mapping since this one cached the table (fix, then replay).
        ctx.procedures.refresh()
        found = ctx.procedures(dossier.local_procedure_code)
    if found is None:
        raise MappingMissing(dossier.local_procedure_code, dossier_code=dossier.code)
    return dossier.model_copy(
        update={
            "national_procedure_code": found.national_code,
            "field_code": dossier.field_code or found.field_code,
            "field_name": dossier.field_name or found.field_name,
        }
    )


def to_target(
    ctx: HubContext, system: System, dossier: Dossier, previous: Dossier | None, *, unit_code: str | None
) -> Outgoing:
    """What to send to ``system`` (for ``unit_code``'s copy) for this revision, given what it already has."""
    from mappings import dvcqg, motcua

    new_entries = _new_progress(dossier, previous)
    if system.kind in PORTAL_KINDS:
        dossier = with_national_code(ctx, dossier)
        return Outgoing(
            record=dvcqg.to_portal(dossier, source_version=True),
            progress=dvcqg.progress_to_portal(dossier, new_entries),
        )
    if system.kind in (ConnectorKind.SOAP, ConnectorKind.FAKE):
        if unit_code is None:
            raise ConfigurationError(f"Đích {system.name} cần mã đơn vị (a one-stop-shop target needs a unit)")
        only_new = dossier.model_copy(update={"progress": tuple(new_entries)})
        sender = dossier.processing_unit if dossier.processing_unit != unit_code else None
        return Outgoing(record=motcua.to_status_update(only_new, unit_code=unit_code, sender_unit=sender))
    raise ConfigurationError(f"Không biết gửi tới {system.name} ({system.kind}) (no mapping for this target kind)")


# Fields the hub sends for bookkeeping that a target is not expected to echo back in a look-up.
NOT_ECHOED = frozenset({"PhienBanNguon"})


def same_content(existing: RawRecord, record: RawRecord) -> bool:
    """Whether the target's copy already says everything ``record`` would say."""
    return all(_same(existing.get(key), value) for key, value in record.items() if key not in NOT_ECHOED)


def _same(left: Any, right: Any) -> bool:
    if isinstance(right, dict):
        return isinstance(left, dict) and all(_same(left.get(k), v) for k, v in right.items())
    if isinstance(right, Sequence) and not isinstance(right, str):
        return (
            isinstance(left, Sequence)
            and not isinstance(left, str)
            and len(left) == len(right)
            and all(_same(a, b) for a, b in zip(left, right, strict=True))
        )
    if left is None or right is None:
        return left in (None, "") and right in (None, "")
    return str(left) == str(right)
