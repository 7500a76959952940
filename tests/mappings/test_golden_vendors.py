"""Golden files for the simulated vendors' recorded payloads: Phương Nam's SOAP answers, Bạch Đằng's JSON answers and
Thu Bồn's ASMX answers (the record an escaped XML string) → their profiles → the expected canonical JSON and
national-portal JSON.

The payloads were recorded from ``simulators/phuongnam.py``, ``simulators/bachdang.py`` and ``simulators/thubon.py``;
a Phương Nam record has no change time, so each has its change-feed entry beside it (``*.feed.json``). Set
``DVC_HUB_REGENERATE_GOLDENS=1`` to rewrite the expected files; review the diff before committing it.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

import pytest

from connectors.embedded import parse_xml_text
from mappings.canonical import Dossier
from mappings.codes import Status
from mappings.procedures import InMemoryProcedureLookup
from mappings.vendors import get_path, profile, to_default
from simulators import catalogue
from systems.dvcqg import mapping as dvcqg
from systems.motcua import mapping as motcua
from tests.mappings.soap import ROOT, vendor_reply
from tests.mappings.test_golden import FIXTURES, check_golden

WSDLS = {
    "phuongnam": ROOT / "simulators" / "contracts" / "phuongnam" / "phuongnam.wsdl",
    "thubon": ROOT / "simulators" / "contracts" / "thubon" / "thubon.wsdl",
}
RECORDED_WITH_SEED = 5  # the simulators' seed the payloads were recorded with: its catalogue maps their procedures
CASES = [
    "phuongnam-rich.xml",
    "phuongnam-terminal.xml",
    "bachdang-rich.json",
    "bachdang-terminal.json",
    "thubon-rich.xml",
    "thubon-terminal.xml",
]


@cache
def lookup() -> InMemoryProcedureLookup:
    rows = ["local_code,national_code,procedure_name,field_code,field_name"]
    rows += [
        f'{p.local_code},{p.national_code},"{p.name}",{p.field_code},"{p.field_name}"'
        for p in catalogue.build(RECORDED_WITH_SEED).procedures
    ]
    return InMemoryProcedureLookup.from_csv("\n".join(rows) + "\n")


def vendor_record(name: str) -> dict[str, Any]:
    """The recorded answer's record in the default shape, as the vendor's connector hands it to the mapping."""
    path = FIXTURES / name
    vendor = profile(name.split("-", 1)[0])
    feed = None
    if name.endswith(".xml"):
        reply = vendor_reply(path.read_bytes(), WSDLS[vendor.name], vendor.operations.dossier)
        if path.with_suffix(".feed.json").is_file():
            feed = json.loads(path.with_suffix(".feed.json").read_text(encoding="utf-8"))
            feed["updated_at"] = datetime.fromisoformat(feed["updated_at"])
    else:
        reply = json.loads(path.read_text(encoding="utf-8"))
    where = vendor.responses.dossier.record
    # zeep hands a single-valued answer over unwrapped (the record string itself)
    record = get_path(reply, where.path) if isinstance(reply, dict) and where.path in reply else reply
    if where.xml_string:
        record = parse_xml_text(record, max_bytes=1 << 20)
    result: dict[str, Any] = to_default(record, vendor, feed=feed)
    return result


@pytest.mark.parametrize("name", CASES)
def test_vendor_payload_maps_to_the_golden_canonical_and_portal_json(name: str) -> None:
    stem = name.rsplit(".", 1)[0]
    dossier = motcua.to_canonical(vendor_record(name), procedures=lookup())
    check_golden(FIXTURES / f"{stem}.canonical.json", dossier.model_dump(mode="json"))
    check_golden(
        FIXTURES / f"{stem}.portal.json",
        {"DongBoHoSoMC": dvcqg.to_portal(dossier), "CapNhatTienDoHoSoMC": dvcqg.progress_to_portal(dossier)},
    )


def test_the_rich_records_carry_every_nested_list() -> None:
    for name in ("phuongnam-rich.xml", "bachdang-rich.json", "thubon-rich.xml"):
        dossier = motcua.to_canonical(vendor_record(name), procedures=lookup())
        assert dossier.status is Status.RETURNED
        assert dossier.progress and dossier.fees and dossier.files and dossier.results
        assert dossier.applicant.phone is not None and dossier.applicant.email is not None
        assert all(e.at.utcoffset() is not None for e in dossier.progress)


def test_the_same_dossier_is_the_same_whichever_contract_carried_it() -> None:
    # a dossier's canonical form does not depend on the vendor: the goldens agree on everything both vendors carry
    for stem in ("phuongnam-rich", "bachdang-rich", "thubon-rich"):
        golden = Dossier.model_validate_json((FIXTURES / f"{stem}.canonical.json").read_text("utf-8"))
        again = motcua.to_canonical(motcua.from_canonical(golden), procedures=lookup())
        assert again == golden
