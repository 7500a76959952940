"""One pair of running simulators per test module (starting them costs ~0.3 s); faults are cleared after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.topology import Topology, load
from simulators.server import Simulators

TOPOLOGIES = Path(__file__).resolve().parents[2] / "config" / "topologies"


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load(TOPOLOGIES / "quang-nam-2023.yaml")


@pytest.fixture(scope="module")
def sims(start_simulators: type[Simulators], topology: Topology) -> Iterator[Simulators]:
    with start_simulators(topology, seed=7, dossiers=150, session_ttl=60) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sims" in request.fixturenames:
        request.getfixturevalue("sims").clear_faults()
