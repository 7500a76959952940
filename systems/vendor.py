"""Options every profile-driven one-stop-shop kind shares: which vendor profile describes the system's contract.

Validating the options loads the profile, so ``dvc-hub config check`` reports a broken profile with its file and
key path, before any poll is parked. The profile's ``personal`` element names join the one list of personal keys
(:func:`foundation.redaction.declare_personal`) when a connector is built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from foundation.errors import ConfigurationError
from foundation.settings import Settings
from foundation.topology import load
from mappings.units import UnitIdentity, UnitNaming
from mappings.vendors import VendorProfile, load_profile, profile
from systems.kind import Options


class VendorOptions(Options):
    """``vendor``: a profile in ``mappings/vendors/``; ``vendor_file``: a profile at any path (wins over vendor)."""

    # vendor_file first: the vendor check reads whether a file was given (and read) before it
    vendor_file: Path | None = None
    vendor: str = Field(default="default", validate_default=True)
    page_size: int | None = None  # change-feed page size; the system's batch size by default
    # How the vendor names units, in requests and records: GSO codes (the hub's), the topology's agency_id of each
    # unit, or the system's own table (GSO code → the vendor's code).
    unit_identity: UnitNaming = "gso"
    unit_table: dict[str, str] = Field(default_factory=dict)

    transport: ClassVar[Literal["soap", "json"]] = "soap"  # what the kind speaks; a profile for another is refused

    @field_validator("vendor_file")
    @classmethod
    def _file_loads(cls, path: Path | None) -> Path | None:
        if path is not None:
            cls._fits(load_profile, path)
        return path

    @field_validator("vendor")
    @classmethod
    def _shipped_loads(cls, name: str, info: ValidationInfo) -> str:
        if info.data.get("vendor_file", "not read") is None:  # no file given: the named profile is the one
            cls._fits(profile, name)
        return name

    @classmethod
    def _fits(cls, read: Callable[[Any], VendorProfile], where: Any) -> None:
        """The profile reads, and describes a contract in the transport this kind speaks (ValueError otherwise)."""
        try:
            found = read(where)
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc
        if found.transport != cls.transport:
            raise ValueError(
                f"hồ sơ {found.name} mô tả giao thức {found.transport}, loại hệ thống này dùng {cls.transport} "
                f"/ the profile's transport is {found.transport}, this kind speaks {cls.transport}"
            )

    @model_validator(mode="after")
    def _table_for_table_naming(self) -> VendorOptions:
        if self.unit_identity == "table" and not self.unit_table:
            raise ValueError("unit_identity table needs unit_table (GSO code → the vendor's code of each unit)")
        return self

    def units(self, settings: Settings) -> UnitIdentity:
        """The system's unit naming; agency ids are the topology's (``units[].agency_id``), read from its file."""
        if self.unit_identity == "agency_id":
            topology = load(settings.topology_file)
            every = [(u.code, u.agency_id) for u in topology.units]
            # a code carried by several units over time is asked for by today's; records may name any of them
            today = dict(every) | {u.code: u.agency_id for u in topology.active_units()}
            return UnitIdentity("agency_id", today, former=every)
        return UnitIdentity(self.unit_identity, self.unit_table)

    def profile(self) -> VendorProfile:
        return load_profile(self.vendor_file) if self.vendor_file else profile(self.vendor)

    def takes_updates(self) -> bool:
        return self.profile().operations.update is not None
