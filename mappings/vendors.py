"""Vendor profiles: how one one-stop-shop vendor's SOAP service names its operations, elements and fields.

Provinces buy one-stop-shop software from different vendors. Onboarding another vendor is a YAML file in
``mappings/vendors/`` (or any file a system's ``vendor_file`` option names), never new code: the SOAP connector
reads operation and element names from the profile, and :func:`to_default` / :func:`from_default` rename a vendor's
record to the default vendor's shape (``simulators/contracts``) and back, which ``mappings/motcua.py`` then maps to
the canonical dossier. Everything here is pure: loading a profile reads a file, renaming touches no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from foundation.errors import ConfigurationError
from mappings.normalize import day_written

VENDORS_DIR = Path(__file__).resolve().parent / "vendors"

FaultResolution = Literal["retry", "reauth", "permanent"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Operations(_Frozen):
    """The vendor's operation name for each role."""

    changes: str
    dossier: str
    update: str
    health: str | None = None


class ChangesRequest(_Frozen):
    unit: str
    since: str
    until: str | None = None
    page_size: str | None = None
    token: str | None = None


class DossierRequest(_Frozen):
    unit: str
    code: str


class UnitOnlyRequest(_Frozen):
    unit: str | None = None


class Requests(_Frozen):
    changes: ChangesRequest
    dossier: DossierRequest
    update: UnitOnlyRequest
    health: UnitOnlyRequest = UnitOnlyRequest()


class ChangesResponse(_Frozen):
    items: str
    code: str
    version: str
    updated_at: str
    token: str | None = None


class DossierResponse(_Frozen):
    record: str


class UpdateResponse(_Frozen):
    outcome: str | None = None
    version: str | None = None
    added: str | None = None
    reason: str | None = None
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


class HealthResponse(_Frozen):
    status: str | None = None
    ok: tuple[str, ...] = ()


class Responses(_Frozen):
    changes: ChangesResponse
    dossier: DossierResponse
    update: UpdateResponse = UpdateResponse()
    health: HealthResponse = HealthResponse()


class Faults(_Frozen):
    detail_code: str | None = None
    codes: dict[str, FaultResolution] = Field(default_factory=dict)
    not_found: tuple[str, ...] = ()


class VendorProfile(_Frozen):
    """One vendor's names; see ``mappings/vendors/default.yaml`` for the meaning of every key."""

    name: str
    title: str = ""
    wsdl: str | None = Field(default=None, description="local WSDL path, relative to the profile file")
    service: str | None = Field(default=None, description="wsdl:service name when the WSDL declares several")
    port: str | None = None
    operations: Operations
    requests: Requests
    responses: Responses
    faults: Faults = Faults()
    renames: dict[str, str] = Field(default_factory=dict)
    within: dict[str, dict[str, str]] = Field(default_factory=dict)
    personal: tuple[str, ...] = Field(default=(), description="extra element names holding personal data")
    unknown_dates: frozenset[date] = Field(
        default=frozenset(), description="days this vendor writes for 'no date', beside mappings.normalize's own"
    )
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _renames_are_reversible(self) -> VendorProfile:
        for where, table in [("renames", self.renames), *((f"within.{k}", v) for k, v in self.within.items())]:
            if len(set(table.values())) != len(table):
                raise ValueError(f"{where}: two vendor names map to the same default name; the reverse is ambiguous")
        return self

    @property
    def wsdl_path(self) -> Path | None:
        if self.wsdl is None:
            return None
        base = self.source.parent if self.source is not None else VENDORS_DIR
        return (base / self.wsdl).resolve()


def load_profile(path: Path) -> VendorProfile:
    """Read and validate a profile file; ConfigurationError names the file and every problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return VendorProfile.model_validate({**data, "source": path})
    except (OSError, yaml.YAMLError, TypeError) as exc:
        raise ConfigurationError(
            f"Không đọc được hồ sơ nhà cung cấp {path} / cannot read vendor profile: {exc}"
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(
            f"Hồ sơ nhà cung cấp {path} không hợp lệ / invalid vendor profile: {problems}"
        ) from exc


@cache
def profile(name: str) -> VendorProfile:
    """A shipped profile by name (``mappings/vendors/<name>.yaml``), read once per process."""
    path = VENDORS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in VENDORS_DIR.glob("*.yaml")))
        raise ConfigurationError(f"Không có nhà cung cấp {name!r} (unknown vendor; known: {known})")
    return load_profile(path)


def to_default(record: Any, vendor: VendorProfile) -> Any:
    """A vendor's record renamed to the default vendor's shape (a new structure; the input is not changed).

    A date the vendor writes for "no date" (``unknown_dates``) becomes None, so the mapping sees it as absent.
    """
    renamed = _rename(record, vendor.renames, vendor.within, parent=None, forward=True)
    return _blank_unknown_dates(renamed, vendor.unknown_dates) if vendor.unknown_dates else renamed


def _blank_unknown_dates(data: Any, unknown: frozenset[date]) -> Any:
    if isinstance(data, dict):
        return {key: _blank_unknown_dates(value, unknown) for key, value in data.items()}
    if isinstance(data, list):
        return [_blank_unknown_dates(value, unknown) for value in data]
    return None if day_written(data) in unknown else data


def from_default(record: Any, vendor: VendorProfile) -> Any:
    """A default-shaped record renamed to the vendor's names, for pushes (the reverse of :func:`to_default`)."""
    reverse = {v: k for k, v in vendor.renames.items()}
    within = {k: {v: n for n, v in t.items()} for k, t in vendor.within.items()}
    return _rename(record, reverse, within, parent=None, forward=False)


def _rename(
    data: Any, table: Mapping[str, str], within: Mapping[str, Mapping[str, str]], *, parent: str | None, forward: bool
) -> Any:
    if isinstance(data, Mapping):
        scoped = within.get(parent or "", {})
        out: dict[str, Any] = {}
        for key, value in data.items():
            new = scoped.get(key) or table.get(key, key)
            # ``within`` is keyed by the parent's default name in both directions.
            out[new] = _rename(value, table, within, parent=new if forward else key, forward=forward)
        return out
    if isinstance(data, list | tuple):
        return [_rename(v, table, within, parent=parent, forward=forward) for v in data]
    return data


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of nested mappings, or None when any step is missing."""
    for step in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(step)
    return data
