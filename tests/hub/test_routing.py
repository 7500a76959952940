"""Routing without a broker: which targets hear about a dossier change, for several national targets and for
units that were merged into successors served by another system."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from foundation.clock import VN_TZ
from foundation.topology import Topology, TopologyFile, load
from hub.routing import owner_unit, split_target, targets_for, unit_target
from mappings.canonical import Dossier
from mappings.procedures import InMemoryProcedureLookup, NationalProcedure
from mappings.vendors import FIELD_VENDORS_DIR
from systems import motcua
from tests.conftest import TOPOLOGIES
from tests.hub.factories import record

BEFORE_MERGER = date(2025, 3, 1)
AFTER_MERGER = date(2025, 8, 1)


def _topology() -> Topology:
    """A province with two national targets and two one-stop-shops: the old units' (retired with the districts on
    30 June 2025) and the new communes'. Commune 100 kept its code in the merger; 101 merged into 200; 102 was
    retired without a successor; 103 is new and served by nobody yet."""
    system = {"base_url": "http://127.0.0.1:1/x"}

    def unit(code: str, level: str, parent: str | None, agency: str, **more: Any) -> dict[str, Any]:
        return {"code": code, "name": f"Đơn vị {code}", "level": level, "parent": parent, "agency_id": agency} | more

    old = {"valid_to": date(2025, 6, 30)}
    return Topology(
        TopologyFile.model_validate(
            {
                "name": "test",
                "targets": ["dvcqg", "ministry"],
                "systems": [
                    {"name": "dvcqg", "kind": "dvcqg-session", **system},
                    {"name": "ministry", "kind": "fake", **system},
                    {"name": "motcua-old", "kind": "soap", **system},
                    {"name": "motcua-new", "kind": "soap", **system},
                ],
                "units": [
                    unit("1", "province", None, "000.00.00.H01", system="motcua-new"),
                    unit("10", "district", "1", "000.00.10.H01", system="motcua-old", successor="1", **old),
                    unit("100", "commune", "10", "000.01.10.H01", system="motcua-old", successor="100", **old),
                    unit("101", "commune", "10", "000.02.10.H01", system="motcua-old", successor="200", **old),
                    unit("102", "commune", "10", "000.03.10.H01", **old),
                    unit("100", "commune", "1", "000.00.61.H01", system="motcua-new", valid_from=date(2025, 7, 1)),
                    unit("200", "commune", "1", "000.00.62.H01", system="motcua-new", valid_from=date(2025, 7, 1)),
                    unit("103", "commune", "1", "000.00.63.H01", valid_from=date(2025, 7, 1)),
                ],
            }
        )
    )


TOPOLOGY = _topology()
LOOKUP = InMemoryProcedureLookup({"NT-HT-001": NationalProcedure("1.001193", "HT", "Hộ tịch")})


def _dossier(receiving: str, processing: str | None = None, *, received: date = BEFORE_MERGER) -> Dossier:
    raw = record("000.01.10.H01-250301-0001", unit="20965", processing_unit=None)
    dossier = motcua.to_canonical(raw, LOOKUP)
    at = datetime(received.year, received.month, received.day, 8, 0, tzinfo=VN_TZ)
    return dossier.model_copy(update={"receiving_unit": receiving, "processing_unit": processing, "received_at": at})


@pytest.mark.parametrize(
    ("receiving", "processing", "source", "on", "expected"),
    [
        # the national targets always, the portal first, in the topology's order
        ("100", None, "100", BEFORE_MERGER, ["dvcqg", "ministry"]),
        # liên thông: the district decides, the commune that received it hears of it, and the other way round
        ("100", "10", "10", BEFORE_MERGER, ["dvcqg", "ministry", "motcua-old:100"]),
        ("100", "10", "100", BEFORE_MERGER, ["dvcqg", "ministry", "motcua-old:10"]),
        # a third party changed it (a replay): both copies hear of it, each once
        ("100", "10", "1", BEFORE_MERGER, ["dvcqg", "ministry", "motcua-old:100", "motcua-old:10"]),
        ("100", "100", "10", BEFORE_MERGER, ["dvcqg", "ministry", "motcua-old:100"]),
        # after the merger a unit's copy lives in its successor's system, still under the old code
        ("101", "10", "10", AFTER_MERGER, ["dvcqg", "ministry", "motcua-new:101"]),
        ("100", "10", "100", AFTER_MERGER, ["dvcqg", "ministry", "motcua-new:10"]),
        # a unit retired without a successor has no system left to tell
        ("102", "10", "10", AFTER_MERGER, ["dvcqg", "ministry"]),
    ],
)
def test_targets_are_the_national_ones_then_every_other_copy_by_its_current_system(
    receiving: str, processing: str | None, source: str, on: date, expected: list[str]
) -> None:
    dossier = _dossier(receiving, processing)
    assert targets_for(TOPOLOGY, dossier, source_unit=source, on=on) == expected


def test_a_code_reused_after_the_merger_resolves_at_the_day_the_dossier_was_received() -> None:
    # Commune 100 existed before and after the merger, in two systems: a dossier received before goes to the old
    # unit's successor, one received after to the new unit, both in the new system after the merger
    before = _dossier("100", "1", received=BEFORE_MERGER)
    after = _dossier("100", "1", received=AFTER_MERGER)
    assert targets_for(TOPOLOGY, before, source_unit="1", on=AFTER_MERGER)[-1] == "motcua-new:100"
    assert targets_for(TOPOLOGY, after, source_unit="1", on=AFTER_MERGER)[-1] == "motcua-new:100"
    assert targets_for(TOPOLOGY, before, source_unit="1", on=BEFORE_MERGER)[-1] == "motcua-old:100"


def test_a_unit_unknown_on_the_day_of_receipt_is_looked_up_on_the_day_of_routing() -> None:
    # Commune 103 did not exist when the dossier says it was received (a wrong date at the source), but it does
    # now; it is served by no system, so only the national targets hear of it, and routing does not fail
    dossier = _dossier("103", "1", received=BEFORE_MERGER)
    assert targets_for(TOPOLOGY, dossier, source_unit="1", on=AFTER_MERGER) == ["dvcqg", "ministry"]


def test_a_dossier_submitted_online_and_not_received_yet_is_routed_by_its_submission_day() -> None:
    # Submitted to commune 101 before the merger, received by nobody yet: its copy is with 101's successor
    submitted = datetime(2025, 6, 20, 22, 0, tzinfo=VN_TZ)
    dossier = _dossier("101", "10").model_copy(update={"received_at": None, "submitted_at": submitted})
    assert targets_for(TOPOLOGY, dossier, source_unit="10", on=AFTER_MERGER)[-1] == "motcua-new:101"


def test_a_dossier_submitted_before_the_merger_and_received_after_is_routed_by_its_submission_day() -> None:
    # Submitted online to commune 101 on 30 June, received on 1 July by its successor's officers: 101 no longer
    # exists on the day of receipt, its copy is with 101's successor in the new system
    submitted = datetime(2025, 6, 30, 22, 0, tzinfo=VN_TZ)
    dossier = _dossier("101", "10", received=date(2025, 7, 1)).model_copy(update={"submitted_at": submitted})
    assert targets_for(TOPOLOGY, dossier, source_unit="10", on=AFTER_MERGER)[-1] == "motcua-new:101"


def test_a_dossier_with_no_dates_is_routed_by_the_units_of_the_day() -> None:
    dossier = _dossier("200", "1").model_copy(update={"received_at": None, "submitted_at": None})
    assert targets_for(TOPOLOGY, dossier, source_unit="1", on=AFTER_MERGER)[-1] == "motcua-new:200"


@pytest.mark.parametrize(
    ("target", "parts"),
    [
        ("dvcqg", ("dvcqg", None)),
        ("motcua-old:100", ("motcua-old", "100")),
        ("motcua:", ("motcua", None)),
        ("a:b:c", ("a", "b:c")),
    ],
)
def test_split_target_undoes_unit_target(target: str, parts: tuple[str, str | None]) -> None:
    assert split_target(target) == parts
    system, unit = parts
    if unit is not None:
        assert unit_target(system, unit) == target


def test_the_owner_is_the_processing_unit_during_lien_thong_else_the_receiving_unit() -> None:
    assert owner_unit(_dossier("100", "10")) == "10"
    assert owner_unit(_dossier("100")) == "100"


def _read_only_vendors(tmp_path: Path) -> Path:
    """The three-vendor province with Phương Nam's and Bạch Đằng's profiles as they were before they took updates
    (no ``operations.update``): the hub reads those units and can write nothing back to them."""
    spec = yaml.safe_load((TOPOLOGIES / "quang-nam-2023-three-vendors.yaml").read_text(encoding="utf-8"))
    for system in spec["systems"]:
        vendor = system.get("options", {}).get("vendor")
        if vendor in ("phuongnam", "bachdang"):
            profile = yaml.safe_load((FIELD_VENDORS_DIR / f"{vendor}.yaml").read_text(encoding="utf-8"))
            profile["operations"].pop("update")
            profile["requests"].pop("update")
            path = tmp_path / f"{vendor}-read-only.yaml"
            path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
            system["options"] = {"vendor_file": str(path)}
    out = tmp_path / "topology.yaml"
    out.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("processing", "expected"),
    [
        ("517", ["dvcqg", "motcua-quangnam:517"]),  # the default contract takes updates
        ("502", ["dvcqg"]),  # this Phương Nam profile has no update operation
        ("503", ["dvcqg"]),  # nor has this Bạch Đằng one
        ("513", ["dvcqg"]),  # nor has the REST platform's profile
    ],
)
def test_a_copy_is_never_routed_to_a_system_that_takes_no_updates(
    processing: str, expected: list[str], tmp_path: Path
) -> None:
    topology = load(_read_only_vendors(tmp_path))
    dossier = _dossier("20965", processing, received=date(2023, 10, 2))
    assert targets_for(topology, dossier, source_unit="20965", on=date(2023, 10, 2)) == expected


@pytest.mark.parametrize("processing", ["502", "503"])
def test_a_copy_is_routed_to_a_vendor_whose_profile_has_an_update_operation(processing: str) -> None:
    topology = load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml")
    dossier = _dossier("20965", processing, received=date(2023, 10, 2))
    system = topology.system_for(topology.unit(processing))
    assert system is not None
    expected = ["dvcqg", f"{system.name}:{processing}"]
    assert targets_for(topology, dossier, source_unit="20965", on=date(2023, 10, 2)) == expected


def test_config_check_warns_for_every_unit_whose_system_takes_no_updates(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["config", "check", str(_read_only_vendors(tmp_path))])
    assert result.exit_code == 0, result.output  # a warning, not an error: the hub still reads those units
    warned = [line for line in result.output.splitlines() if "⚠" in line]
    # Phương Nam (502), Bạch Đằng (503 and the ward 20311) as read-only profiles, Thu Bồn (507, 508) and Trường Sơn
    # (513, 518) take no status updates
    assert [line.split("units.")[1].split(" ")[0] for line in warned] == [
        "502",
        "503",
        "507",
        "508",
        "513",
        "518",
        "20311",
    ]
    assert all("không nhận cập nhật liên thông" in line for line in warned)
