"""``dvc-hub doctor`` on a healthy deployment (migrated database, real Redis, the simulators as both systems) and on
a broken one: every failure is its own line, naming what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import doctor
from cli.main import app
from devtools.servers import free_port
from foundation.clock import utcnow
from foundation.settings import Settings
from foundation.topology import load
from migrations import upgrade
from simulators.server import Simulators
from tests.conftest import TOPOLOGIES

pytestmark = pytest.mark.redis

CREDENTIALS = {
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_USERNAME": "hub",
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD": "hub-secret",
    "DVC_HUB_CRED_DVCQG_USERNAME": "hub",
    "DVC_HUB_CRED_DVCQG_PASSWORD": "hub-secret",
}


@pytest.fixture
def simulators(start_simulators: type[Simulators], tmp_path: Path) -> Iterator[Path]:
    """Both simulated systems running; yields a topology file pointing at them."""
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=3) as sims:
        yield sims.topology_file(tmp_path / "topology.yaml")


def _environment(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for key, value in values.items():
        monkeypatch.setenv(f"DVC_HUB_{key.upper()}", value)


def test_a_healthy_deployment_passes_every_check(
    simulators: Path, sqlite_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    _environment(monkeypatch, database_url=sqlite_url, broker_url=redis_url, topology_file=str(simulators))
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)

    result = CliRunner().invoke(app, ["doctor"])

    assert result.exit_code == 0, result.output
    for line in ("database: schema at head", "broker: Redis reachable", "motcua-quangnam: credentials",
                 "motcua-quangnam: health", "dvcqg: credentials", "dvcqg: health", "clock vs redis"):  # fmt: skip
        assert f"✓ {line}" in result.output
    assert "✗" not in result.output


def test_a_broken_deployment_names_each_problem(
    simulators: Path, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database never migrated, a broker nobody listens on, the portal's password missing, and the
    # one-stop-shop overlaid to an address where nothing answers
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        f"systems:\n  - {{name: motcua-quangnam, base_url: 'http://127.0.0.1:{free_port()}/motcua'}}\n",
        encoding="utf-8",
    )
    _environment(
        monkeypatch,
        database_url=sqlite_url,
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        topology_file=str(simulators),
        topology_overlay=str(overlay),
    )
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_QUANGNAM_USERNAME", "hub")
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD", "hub-secret")
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_USERNAME", "hub")

    result = CliRunner().invoke(app, ["doctor"])

    assert result.exit_code == 1
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "✗ database: schema at empty, head is" in output and "dvc-hub db upgrade" in output
    assert "✗ broker: Redis unreachable" in output
    assert "✗ dvcqg: credentials" in output and "DVC_HUB_CRED_DVCQG_USERNAME" in output
    assert "✓ motcua-quangnam: credentials" in output
    assert "✗ motcua-quangnam: health" in output
    assert "✗ clock vs redis: could not read its time" in output


def test_a_clock_off_by_minutes_fails_the_skew_check(redis_url: str, sqlite_url: str, simulators: Path) -> None:
    upgrade(sqlite_url)
    settings = Settings(_env_file=None, database_url=sqlite_url, broker_url=redis_url, topology_file=simulators)

    ahead = doctor.run(settings, clock=lambda: utcnow() + timedelta(minutes=10))
    on_time = doctor.run(settings)

    [skewed] = [c for c in ahead if c.name == "clock vs redis"]
    assert not skewed.ok and "+600" in skewed.detail
    assert next(c for c in on_time if c.name == "clock vs redis").ok
