"""The import contracts cannot go stale: every root package is in each layers contract and in the acyclic contract,
and every package the project ships is a root package, so a new package is checked from its first import."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

from foundation.settings import PROJECT_ROOT

# The contracts that must name every root package: a package left out of them is checked by none of their rules.
COVERING = {"layers": "layers", "acyclic_siblings": "ancestors"}


def _named(entry: str) -> set[str]:
    """The root packages a layer (``"connectors | simulators"``) or an ancestor expression names."""
    return {part.strip().split(".")[0] for part in re.split(r"[|:]", entry) if part.strip()}


def missing_from_contracts(pyproject: Path) -> dict[str, set[str]]:
    """Each covering contract's id with the root packages it does not name (those that name all are left out), and
    ``"root_packages"`` with the packages setuptools ships that import-linter does not analyse."""
    config: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    roots = set(linter["root_packages"])
    missing: dict[str, set[str]] = {}
    for contract in linter["contracts"]:
        field = COVERING.get(contract["type"])
        if field is not None:
            named = set().union(*(_named(entry) for entry in contract[field]))
            if roots - named:
                missing[contract["id"]] = roots - named
    shipped = {name.rstrip("*") for name in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    if shipped - roots:
        missing["root_packages"] = shipped - roots
    return missing


def test_every_root_package_is_in_each_layers_and_acyclic_contract() -> None:
    assert missing_from_contracts(PROJECT_ROOT / "pyproject.toml") == {}


def test_the_covering_contracts_are_there() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    types = {contract["type"] for contract in config["tool"]["importlinter"]["contracts"]}
    assert set(COVERING) <= types  # without them, the check above would pass on nothing


def test_a_new_root_package_left_out_of_the_contracts_fails_the_check(tmp_path: Path) -> None:
    # Given a copy of pyproject.toml where a new package is analysed and shipped, but no contract names it
    copy = tmp_path / "pyproject.toml"
    shutil.copy(PROJECT_ROOT / "pyproject.toml", copy)
    text = copy.read_text(encoding="utf-8")
    text = text.replace("root_packages = [", 'root_packages = ["payments", ', 1)
    copy.write_text(text.replace("include = [", 'include = ["payments*", ', 1), encoding="utf-8")

    # Then the check names it for each covering contract
    assert missing_from_contracts(copy) == {"layers": {"payments"}, "acyclic": {"payments"}}


def test_a_shipped_package_that_is_not_analysed_fails_the_check(tmp_path: Path) -> None:
    copy = tmp_path / "pyproject.toml"
    shutil.copy(PROJECT_ROOT / "pyproject.toml", copy)
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text.replace("include = [", 'include = ["payments*", ', 1), encoding="utf-8")
    assert missing_from_contracts(copy) == {"root_packages": {"payments"}}


def test_the_console_is_forbidden_every_schedules_module_but_control() -> None:
    # The console's contract lists the schedules modules by name (import-linter cannot say "all but one"): a new
    # schedules module left out of it would be open to the console.
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # The tables control itself reads cannot be forbidden with it (through control, the console reaches them): they
    # are protected, so that nothing outside the schedules imports them directly.
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    forbidden, tables = contracts["console-uses-schedules-control"], contracts["schedules-own-their-tables"]
    modules = {f"schedules.{p.stem}" for p in (PROJECT_ROOT / "schedules").glob("*.py") if p.stem != "__init__"}
    assert "schedules.control" in modules
    assert set(forbidden["forbidden_modules"]) | set(tables["protected_modules"]) == modules - {"schedules.control"}
    assert "console" not in tables["allowed_importers"]
    assert "ignore_imports" not in forbidden and "allow_indirect_imports" not in forbidden
