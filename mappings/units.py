"""How a system's vendor names administrative units, and the translation both ways to the GSO codes the hub keeps.

A vendor may name a unit by its GSO code (the hub's own), by its DVCQG agency identifier (``000.00.04.H47``, the
topology's ``agency_id``) or by codes of its own (a per-system table in the topology). Requests carry the vendor's
name for the unit; records come back with the vendor's names and leave with GSO codes, so the canonical dossier and
everything the hub stores keep GSO codes. Pure: the tables are handed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from foundation.errors import Problem

UnitNaming = Literal["gso", "agency_id", "table"]

# Where units sit in the default record; a step through a list applies to every item.
UNIT_FIELDS: Final = ("MaDonViTiepNhan", "MaDonViXuLy", "DanhSachTienDo.TienDo.MaDonVi")

# The profile or topology key an operator changes when a unit is not found, by naming.
KEYS: Final[Mapping[str, str]] = {
    "gso": "systems.<name>.options.unit_identity",
    "agency_id": "units[].agency_id",
    "table": "systems.<name>.options.unit_table",
}


class UnitIdentity:
    """One system's names for units: ``to_vendor`` for requests, ``from_vendor`` for records."""

    def __init__(
        self,
        naming: UnitNaming = "gso",
        table: Mapping[str, str] | None = None,
        *,
        former: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.naming = naming
        self.forward = dict(table or {})  # GSO code → the vendor's name
        # ``former``: other (GSO code, vendor's name) pairs that records may still carry, e.g. a unit's agency id
        # before a merger gave its code a new one; they are read, never sent.
        self.back = {str(v).strip().lower(): k for k, v in [*former, *self.forward.items()]}

    @property
    def key(self) -> str:
        """Where an operator fixes a unit this naming does not know."""
        return KEYS[self.naming]

    def to_vendor(self, gso: str) -> str:
        """The vendor's name for a unit the hub names by GSO code; a unit without one is sent as its GSO code,
        which the vendor will not know: the probe reports the empty feed with the name it sent."""
        if self.naming == "gso":
            return gso
        return self.forward.get(gso, gso)

    def from_vendor(self, value: Any) -> str | None:
        """The GSO code of a unit as the vendor named it; None when this system's naming does not know it."""
        if self.naming == "gso":
            return None if value is None else str(value)
        return self.back.get(str(value).strip().lower())

    def translate(self, record: dict[str, Any]) -> list[Problem]:
        """Put GSO codes in ``record``'s unit fields (in place); a problem for each unit the naming does not know."""
        if self.naming == "gso":
            return []
        problems: list[Problem] = []
        for path in UNIT_FIELDS:
            _each(record, path.split("."), "", self, problems)
        return problems


def _each(data: Any, steps: list[str], prefix: str, identity: UnitIdentity, problems: list[Problem]) -> None:
    if isinstance(data, list):
        for i, item in enumerate(data):
            _each(item, steps, f"{prefix}[{i}]", identity, problems)
        return
    if not isinstance(data, dict):
        return
    step, value = steps[0], data.get(steps[0])
    here = f"{prefix}.{step}" if prefix else step
    if len(steps) > 1:
        _each(value, steps[1:], here, identity, problems)
        return
    if value in (None, ""):
        return
    found = identity.from_vendor(value)
    if found is None:
        problems.append(
            Problem(
                here,
                f"đơn vị {value!r} không có trong cách gọi đơn vị của hệ thống ({identity.naming}: {identity.key})",
                f"unit {value!r} is not known to this system's unit naming ({identity.naming}): see {identity.key}",
                str(value),
            )
        )
    else:
        data[step] = found
