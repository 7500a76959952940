"""``dvc-hub config check`` names the option that chose a broken vendor profile, and the profile's own key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from mappings.vendors import FIELD_VENDORS_DIR
from tests.conftest import TOPOLOGIES

THREE_VENDORS = TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"


def _check(tmp_path: Path, system: str, options: dict[str, str]) -> str:
    data = yaml.safe_load(THREE_VENDORS.read_text(encoding="utf-8"))
    for entry in data["systems"]:
        if entry["name"] == system:
            entry["options"] = options
    topology = tmp_path / "topology.yaml"
    topology.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "check", str(topology)], terminal_width=400)
    assert result.exit_code == 1, result.output
    return " ".join(result.output.split())


def test_a_broken_profile_file_is_named_by_its_option_and_its_own_key_path(tmp_path: Path) -> None:
    profile = yaml.safe_load((FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    profile["paging"]["every"] = 2
    broken = tmp_path / "broken-vendor.yaml"
    broken.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    output = _check(tmp_path, "motcua-tamky", {"vendor_file": str(broken)})
    assert "systems.motcua-tamky.options.vendor_file: " in output
    assert "paging.every: Extra inputs are not permitted" in output


@pytest.mark.parametrize(
    ("system", "options", "expected"),
    [
        ("motcua-tamky", {"vendor": "phuong-nam"}, "unknown vendor"),
        ("motcua-hoian", {"vendor": "phuongnam"}, "the profile's transport is soap, this kind speaks json"),
    ],
)
def test_a_shipped_profile_that_does_not_fit_is_named_by_the_vendor_option(
    tmp_path: Path, system: str, options: dict[str, str], expected: str
) -> None:
    output = _check(tmp_path, system, options)
    assert f"systems.{system}.options.vendor: " in output
    assert expected in output


def test_a_json_kind_without_a_vendor_is_refused_the_default_soap_profile(tmp_path: Path) -> None:
    output = _check(tmp_path, "motcua-hoian", {})
    assert "systems.motcua-hoian.options.vendor: " in output
    assert "this kind speaks json" in output
