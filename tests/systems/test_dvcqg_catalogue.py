"""The national portal's kind reads its catalogues and the status of its copies; no other package names their
fields."""

from __future__ import annotations

from typing import Any

import pytest

from foundation.errors import Action, ConfigurationError
from mappings.codes import Status
from mappings.errors import ValidationFailed
from systems.dvcqg import KINDS
from systems.errors import CatalogueRecordInvalid


class Portal:
    """The portal connector's catalogue calls, answering what a test sets."""

    def __init__(self, procedures: list[dict[str, Any]] | None = None, agencies: list[dict[str, Any]] | None = None):
        self.procedure_list = procedures or []
        self.agency_list = agencies or []

    def procedures(self, unit_code: str | None = None, **params: Any) -> list[dict[str, Any]]:
        return list(self.procedure_list)

    def agencies(self, unit_code: str | None = None, **params: Any) -> list[dict[str, Any]]:
        return list(self.agency_list)


def procedure(code: str, name: str = "Đăng ký khai sinh") -> dict[str, Any]:
    return {"MaTTHC": code, "TenTTHC": name, "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "MucDo": "4"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_portal_kind_reads_the_catalogues_and_a_copys_status(kind: str) -> None:
    portal_kind = KINDS[kind]
    assert portal_kind.catalogue is not None and portal_kind.status_of is not None
    [entry] = portal_kind.catalogue(Portal([procedure("1.001193")]), "procedures")
    assert (entry.code, entry.name) == ("1.001193", "Đăng ký khai sinh")
    assert entry.columns == {"field_code": "HT", "field_name": "Hộ tịch", "level": "4"}
    assert entry.data["TenLinhVuc"] == "Hộ tịch"
    assert portal_kind.status_of({"MaHoSo": "H1", "TrangThaiHoSo": "4"}) == Status.parse("4")


def test_the_agency_catalogue_reads_parents() -> None:
    read = KINDS["dvcqg-session"].catalogue
    assert read is not None
    portal = Portal(
        agencies=[
            {"MaDonVi": "000.00.00.H47", "TenDonVi": "UBND tỉnh Quảng Nam", "CapDonVi": "TINH"},
            {"MaDonVi": "000.00.17.H47", "TenDonVi": "UBND huyện Núi Thành", "MaDonViCha": "000.00.00.H47"},
        ]
    )
    entries = {e.code: e for e in read(portal, "agencies")}
    assert entries["000.00.17.H47"].columns["parent_code"] == "000.00.00.H47"
    assert entries["000.00.00.H47"].columns == {"parent_code": None, "level": "TINH"}


def test_a_catalogue_record_without_code_is_refused_with_its_position() -> None:
    read = KINDS["dvcqg-session"].catalogue
    assert read is not None
    with pytest.raises(CatalogueRecordInvalid, match="bản ghi thứ 1") as refused:
        read(Portal([procedure("1.001193"), {"TenTTHC": "no code"}]), "procedures")
    assert (refused.value.service, refused.value.index, refused.value.action) == ("LayDanhSachTTHC", 1, Action.PARK)


def test_a_portal_connector_without_an_agency_catalogue_says_so() -> None:
    read = KINDS["dvcqg-session"].catalogue
    assert read is not None
    with pytest.raises(ConfigurationError, match="LayDanhMucCoQuan"):
        read(object(), "agencies")


def test_a_copy_without_a_known_status_is_a_validation_failure_naming_the_field() -> None:
    status_of = KINDS["dvcqg-session"].status_of
    assert status_of is not None
    with pytest.raises(ValidationFailed, match="TrangThaiHoSo"):
        status_of({"MaHoSo": "H1", "TrangThaiHoSo": "not a status"})
