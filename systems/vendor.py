"""Options every profile-driven one-stop-shop kind shares: which vendor profile describes the system's contract.

Validating the options loads the profile, so ``dvc-hub config check`` reports a broken profile with its file and
key path, before any poll is parked. The profile's ``personal`` element names join the one list of personal keys
(:func:`foundation.redaction.declare_personal`) when a connector is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import model_validator

from foundation.errors import ConfigurationError
from mappings.vendors import VendorProfile, load_profile, profile
from systems.kind import Options


class VendorOptions(Options):
    """``vendor``: a profile in ``mappings/vendors/``; ``vendor_file``: a profile at any path (wins over vendor)."""

    vendor: str = "default"
    vendor_file: Path | None = None
    page_size: int | None = None  # change-feed page size; the system's batch size by default

    transport: ClassVar[Literal["soap", "json"]] = "soap"  # what the kind speaks; a profile for another is refused

    @model_validator(mode="after")
    def _profile_loads(self) -> VendorOptions:
        try:
            found = self.profile()
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc
        if found.transport != self.transport:
            raise ValueError(
                f"hồ sơ {found.name} mô tả giao thức {found.transport}, loại hệ thống này dùng {self.transport} "
                f"/ the profile's transport is {found.transport}, this kind speaks {self.transport}"
            )
        return self

    def profile(self) -> VendorProfile:
        return load_profile(self.vendor_file) if self.vendor_file else profile(self.vendor)
