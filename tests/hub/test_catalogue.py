"""The daily catalogue refresh keeps what the portal lists: upserted, unlisted rows deactivated, never deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.catalogue import CatalogueAgency, CatalogueProcedure, refresh
from hub.store.db import Database
from systems.kind import CatalogueEntry


def entry(code: str, name: str = "Đăng ký khai sinh", **columns: str | None) -> CatalogueEntry:
    return CatalogueEntry(
        code=code, name=name, columns={"field_code": "HT", "field_name": "Hộ tịch", "level": "4", **columns}, data={}
    )


def test_the_procedure_catalogue_is_upserted_and_unlisted_procedures_deactivated(db: Database) -> None:
    first = refresh(db, "procedures", [entry("1.001193"), entry("1.000656", "Đăng ký kết hôn")])
    assert (first.seen, first.added, first.deactivated) == (2, 2, 0)
    second = refresh(db, "procedures", [entry("1.001193", "Đăng ký khai sinh (sửa đổi)"), entry("2.000001")])
    assert (second.seen, second.added, second.deactivated) == (2, 1, 1)
    with db.session() as session:
        rows = {p.code: p for p in session.scalars(select(CatalogueProcedure))}
    assert rows["1.001193"].name == "Đăng ký khai sinh (sửa đổi)" and rows["1.001193"].active
    assert rows["1.000656"].active is False
    assert rows["2.000001"].field_code == "HT" and rows["2.000001"].level == "4"


def test_an_empty_catalogue_answer_deactivates_nothing(db: Database) -> None:
    refresh(db, "procedures", [entry("1.001193")])
    assert refresh(db, "procedures", []).seen == 0
    with db.session() as session:
        row = session.get(CatalogueProcedure, "1.001193")
    assert row is not None and row.active


def test_the_agency_catalogue_keeps_parents(db: Database) -> None:
    agency = CatalogueEntry(
        code="000.00.17.H47", name="UBND huyện Núi Thành", columns={"parent_code": "000.00.00.H47"}, data={}
    )
    assert refresh(db, "agencies", [agency]).added == 1
    with db.session() as session:
        row = session.get(CatalogueAgency, "000.00.17.H47")
    assert row is not None and row.parent_code == "000.00.00.H47"


def test_an_unknown_catalogue_is_refused(db: Database) -> None:
    with pytest.raises(KeyError):
        refresh(db, "units", [entry("1")])
