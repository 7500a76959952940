"""Topology files: both shipped examples load, broken copies are refused with paths, codes resolve by date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from foundation.topology import Level, load, validate_file
from tests.conftest import TOPOLOGIES

QUANG_NAM = TOPOLOGIES / "quang-nam-2023.yaml"
DA_NANG = TOPOLOGIES / "da-nang-2025.yaml"


def test_quang_nam_2023_has_three_levels_with_nui_thanh_and_its_17_communes() -> None:
    topology = load(QUANG_NAM)
    day = date(2023, 6, 1)
    nui_thanh = topology.unit("517", day)
    assert nui_thanh.name == "Huyện Núi Thành"
    assert topology.parent(nui_thanh) == topology.unit("49", day)
    communes = [u for u in topology.active_units(day) if u.parent == "517"]
    assert len(communes) == 17
    assert all(u.level is Level.COMMUNE for u in communes)
    assert topology.unit("502", day).name == "Thành phố Tam Kỳ"
    assert topology.portal.name == "dvcqg"


def test_da_nang_2025_has_two_levels_and_keeps_old_units_with_successors() -> None:
    topology = load(DA_NANG)
    today = date(2025, 8, 1)
    levels = {u.level for u in topology.active_units(today)}
    assert levels == {Level.PROVINCE, Level.COMMUNE}
    assert len([u for u in topology.active_units(today) if u.level is Level.COMMUNE]) == 6

    # A code reused by the merged unit resolves by date.
    assert topology.unit("20965", date(2024, 5, 1)).name == "Thị trấn Núi Thành"
    assert topology.unit("20965", today).name == "Xã Núi Thành"

    tam_tien = topology.unit("20974", date(2024, 5, 1))
    assert tam_tien.valid_to == date(2025, 6, 30)
    assert topology.current(tam_tien, today).name == "Xã Tam Xuân"
    assert [u.code for u in topology.ancestors(tam_tien)] == ["517", "49"]
    assert topology.current(topology.unit("517", date(2024, 1, 1)), today).code == "48"


@pytest.mark.parametrize("path", [QUANG_NAM, DA_NANG], ids=lambda p: p.name)
def test_config_check_accepts_the_shipped_topologies(path: Path) -> None:
    result = CliRunner().invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "hợp lệ" in result.output


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '{code: "20968", name: Xã Tam Xuân I, level: commune, parent: "517"',
            '{code: "20968", name: Xã Tam Xuân I, level: commune, parent: "517x"',
            "units[4].parent: unknown unit 517x",
        ),
        (
            'system: motcua-quangnam}\n  - {code: "502"',
            'system: motcua-x}\n  - {code: "502"',
            "units[0].system: unknown system motcua-x",
        ),
        (
            "agency_id: 000.00.17.H47",
            "agency_id: 000.0.17.H47",
            "units[2].agency_id: String should match pattern",
        ),
        (
            'level: district, parent: "49", agency_id: 000.00.02.H47',
            'level: county, parent: "49", agency_id: 000.00.02.H47',
            "units[1].level: Input should be",
        ),
        ("targets: [dvcqg]", "targets: [cong-quoc-gia]", "targets[0]: unknown system cong-quoc-gia"),
        (
            '{code: "20971", name: Xã Tam Xuân II',
            '{code: "20968", name: Xã Tam Xuân II',
            "units[5].code: unit 20968 overlaps units[4] in time",
        ),
    ],
)
def test_config_check_names_the_path_and_the_problem(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = QUANG_NAM.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")

    assert any(expected in problem for problem in validate_file(broken)), validate_file(broken)
    result = CliRunner().invoke(app, ["config", "check", str(broken)])
    assert result.exit_code == 1
    assert expected in result.output


def test_successor_must_exist_the_day_after_valid_to(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        DA_NANG.read_text(encoding="utf-8").replace('successor: "20971"}', 'successor: "99999"}', 1),
        encoding="utf-8",
    )
    problems = validate_file(broken)
    assert any(p.endswith(".successor: unknown unit 99999") for p in problems), problems


def test_unreadable_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed", encoding="utf-8")
    assert validate_file(broken)[0].startswith("(file):")


def test_an_overlay_changes_systems_by_name_and_refuses_unknown_ones(tmp_path: Path) -> None:
    base = TOPOLOGIES / "quang-nam-2023.yaml"
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        "systems:\n"
        "  - {name: dvcqg, base_url: 'https://dvcqg.example/api', credentials: dvcqg-prod, options: {extra: 1}}\n",
        encoding="utf-8",
    )
    plain, laid = load(base), load(base, overlay)
    portal = laid.systems["dvcqg"]
    assert (portal.base_url, portal.credentials) == ("https://dvcqg.example/api", "dvcqg-prod")
    assert portal.options == {**plain.systems["dvcqg"].options, "extra": 1}
    assert laid.systems["motcua-quangnam"] == plain.systems["motcua-quangnam"]

    overlay.write_text("systems:\n  - {name: dvc-qg, base_url: 'https://x.example'}\n", encoding="utf-8")
    assert validate_file(base, overlay) == ["(overlay).systems[0]: no system of that name in the topology"]
