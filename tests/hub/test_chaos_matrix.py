"""The chaos matrix on real services: PostgreSQL restarted, Redis killed, the source down, the portal hanging, a
worker killed in a batch push, and on RabbitMQ a worker killed with the broker restarted — each ending with the
portal equal to the source, nothing pushed twice, no regression, nothing parked.

Scenarios that restart or kill a server start their own private instance (devtools/servers.py): the shared
services on the standard ports are never touched. The size and the outage length are scaled for CI
(``DVC_HUB_CHAOS_DOSSIERS``, ``DVC_HUB_CHAOS_OUTAGE_SECONDS``); ``bench/stress_chaos.py`` runs the full minute.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devtools.chaos import Scenario, matrix, run_scenario, services_for
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.rabbitmq,
    pytest.mark.timeout(600),
]

DOSSIERS = int(os.environ.get("DVC_HUB_CHAOS_DOSSIERS", "500"))
OUTAGE_SECONDS = float(os.environ.get("DVC_HUB_CHAOS_OUTAGE_SECONDS", "10"))


@pytest.mark.parametrize("scenario", matrix(OUTAGE_SECONDS), ids=lambda s: s.name)
def test_the_portal_ends_equal_to_the_source(scenario: Scenario, tmp_path: Path) -> None:
    with services_for(scenario, shared_postgres=POSTGRES_ADMIN_URL) as services:
        problems = run_scenario(scenario, services, tmp_path, dossiers=DOSSIERS)
    assert problems == []
