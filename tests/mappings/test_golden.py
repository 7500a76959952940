"""Golden files: recorded one-stop-shop payloads → expected canonical JSON → expected national-portal JSON.

Set ``DVC_HUB_REGENERATE_GOLDENS=1`` to rewrite the expected files from the current code; review the diff before
committing it.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from mappings.canonical import Dossier
from mappings.codes import Status
from mappings.errors import MappingMissing
from mappings.procedures import InMemoryProcedureLookup
from systems.dvcqg import mapping as dvcqg
from systems.motcua import mapping as motcua
from tests.mappings.soap import record_from_envelope

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
REGENERATE = os.environ.get("DVC_HUB_REGENERATE_GOLDENS") == "1"
CASES = ["ordinary.xml", "transferred.xml", "decomposed-dates.json", "empty-lists.json",
         "supplement-extension.json", "withdrawn.json"]  # fmt: skip


def lookup() -> InMemoryProcedureLookup:
    return InMemoryProcedureLookup.from_csv((FIXTURES / "procedures.csv").read_text(encoding="utf-8"))


def load_record(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if name.endswith(".xml"):
        return record_from_envelope(path.read_bytes())
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_golden(path: Path, actual: Any) -> None:
    text = json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} missing: run with DVC_HUB_REGENERATE_GOLDENS=1 and review it"
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8"))


def convert(name: str) -> Dossier:
    return motcua.to_canonical(load_record(name), procedures=lookup())


@pytest.mark.parametrize("name", CASES)
def test_source_record_maps_to_the_golden_canonical_and_portal_json(name: str) -> None:
    stem = name.rsplit(".", 1)[0]
    dossier = convert(name)
    check_golden(FIXTURES / f"{stem}.canonical.json", dossier.model_dump(mode="json"))
    check_golden(
        FIXTURES / f"{stem}.portal.json",
        {"DongBoHoSoMC": dvcqg.to_portal(dossier), "CapNhatTienDoHoSoMC": dvcqg.progress_to_portal(dossier)},
    )


@pytest.mark.parametrize("name", CASES)
def test_canonical_golden_is_a_valid_dossier_that_maps_back_to_the_vendor_record(name: str) -> None:
    dossier = Dossier.model_validate_json((FIXTURES / f"{name.rsplit('.', 1)[0]}.canonical.json").read_text("utf-8"))
    again = motcua.to_canonical(motcua.from_canonical(dossier), procedures=lookup())
    assert again == dossier
    motcua.HoSo.model_validate(motcua.from_canonical(dossier))  # the contract's model accepts what we send


def test_soap_record_is_read_with_its_mapping_and_nfc_text() -> None:
    dossier = convert("ordinary.xml")
    assert dossier.national_procedure_code == "1.001193"
    assert dossier.field_code == "G09-TP03"  # the national field wins over the vendor's local "HT"
    assert dossier.applicant.phone == "0905123456"
    assert dossier.applicant.email == "An.Nguyen@example.vn"
    assert [f.file_id for f in dossier.files] == ["F-1", "F-2", "F-3", "F-4", "F-5"]
    assert dossier.other_papers == ()  # <DanhSachGiayToKhac/> is an empty list, not an error


def test_decomposed_text_and_every_date_format_are_normalised() -> None:
    dossier = convert("decomposed-dates.json")
    assert dossier.procedure_name == "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình"
    assert unicodedata.is_normalized("NFC", dossier.procedure_name)
    assert dossier.applicant.name == "Đặng Thị Hồng Nhung"
    assert dossier.applicant.phone == "0905000111"
    assert dossier.applicant.email == "nhung.dang@gmail.com"
    assert len(dossier.summary) <= 999 and dossier.summary.endswith("…")
    assert not dossier.summary[:-1].endswith(" ")
    assert len(dossier.progress[0].handler) <= 50
    portal = dvcqg.to_portal(dossier)
    assert portal["NgayNopHoSo"] == "20231105073000"  # yyyyMMddHHmmss
    assert portal["NgayTiepNhan"] == "20231105080000"  # ISO without offset: Vietnam time
    assert portal["NgayHenTra"] == "20231110080000"  # ISO Z → +7
    assert portal["NgayKetThucXuLy"] == ""  # "" is unknown
    entries = dvcqg.progress_to_portal(dossier)
    assert entries[0]["ThoiDiemXuLy"] == "20231105080000"  # dd/MM/yyyy HH:mm:ss
    assert entries[0]["NgayBatDau"] == "20231105000000"  # dd/MM/yyyy
    assert entries[0]["NgayKetThucTheoQuyDinh"] == "20231107000000"  # yyyyMMdd
    assert entries[1]["NgayKetThucTheoQuyDinh"] == "20231106170000"  # dd/MM/yyyy HH:mm
    assert dossier.updated_at.isoformat() == "2023-11-06T09:30:00+07:00"


def test_supplement_round_carries_the_apology_extension() -> None:
    portal = dvcqg.to_portal(convert("supplement-extension.json"))
    extension = portal["DanhSachHoSoBoSung"][1]
    assert extension["NgayHenTraTruoc"] == "20231031170000"
    assert extension["NgayHenTraMoi"] == "20231115170000"
    assert extension["TrangThaiBoSung"] == "GiaHan"


def test_withdrawn_and_transferred_dossiers() -> None:
    withdrawn = convert("withdrawn.json")
    assert withdrawn.status is Status.WITHDRAWN and withdrawn.status.terminal
    transferred = convert("transferred.xml")
    assert transferred.receiving_unit == "20968" and transferred.processing_unit == "517"
    assert dvcqg.to_portal(transferred)["DinhDanhCHS"] == [{"LoaiDinhDanh": "2", "SoDinhDanh": "205123456"}]
    update = motcua.to_status_update(transferred, unit_code="20968", sender_unit="517", progress_from=2)
    assert update["PhienBanNguon"] == 5 and len(update["DanhSachTienDo"]["TienDo"]) == 1


def test_dossier_without_national_code_is_a_permanent_mapping_error() -> None:
    dossier = convert("unmapped.json")
    with pytest.raises(MappingMissing) as raised:
        dvcqg.to_portal(dossier)
    assert raised.value.dossier_code == "000.00.17.H47-240201-0009"
    assert raised.value.local_procedure_code == "NT-XX-999"
    assert "NT-XX-999" in str(raised.value) and "000.00.17.H47-240201-0009" in str(raised.value)
