"""``dvc-hub reconcile`` against the simulators, through the connectors the topology names: a hub that has not polled
yet finds every dossier of the unit missing at the (empty) portal."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from foundation.topology import load
from migrations import upgrade
from simulators.server import Simulators
from systems import registry
from tests.conftest import TOPOLOGIES

CREDENTIALS = {
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_USERNAME": "hub",
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD": "hub-secret",
    "DVC_HUB_CRED_DVCQG_USERNAME": "hub",
    "DVC_HUB_CRED_DVCQG_PASSWORD": "hub-secret",
}


def test_reconcile_lists_the_source_and_looks_every_dossier_up_at_the_portal(
    start_simulators: type[Simulators], sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=5, dossiers=40) as sims:
        for name, value in CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DVC_HUB_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(sims.topology_file(tmp_path / "topology.yaml")))
        at_source = sorted(code for code, r in sims.source_state().items() if r.MaDonViTiepNhan == "517")
        since = (sims.now() - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S")
        until = (sims.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            result = CliRunner().invoke(
                app, ["reconcile", "517", "--since", since, "--until", until, "--rate", "0", "--json"]
            )
        finally:
            registry.reset()

    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert at_source, "the simulators gave the district no dossier: the test would prove nothing"
    assert run["checked"] == run["listed"] >= len(at_source)
    missing = sorted(d["dossier_code"] for d in run["differences"] if d["kind"] == "missing")
    assert set(at_source) <= set(missing)
    assert {d["kind"] for d in run["differences"]} == {"missing"}
