"""Chaos in the suite: real Redis and PostgreSQL, two worker processes, a portal failing 30% of calls (errors and
hangs), a worker SIGKILLed mid-run and the broker's Redis flushed — and at the end the portal equals the source,
nothing pushed twice, no status gone backwards, nothing parked, and no worker log line holding an applicant's
personal value. The other disruptions (database and broker restarts, outages) are the chaos matrix (`make chaos`)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from devtools.chaos import (
    Scenario,
    kill_and_flush_with_a_failing_portal,
    personal_values_logged,
    run_scenario,
    services_for,
)
from foundation.topology import load
from simulators.server import Simulators
from tests.conftest import POSTGRES_ADMIN_URL, TOPOLOGIES

SCENARIO = Scenario("kill-and-flush-with-a-failing-portal", kill_and_flush_with_a_failing_portal)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(900)
def test_nothing_is_lost_or_pushed_twice_through_kills_flushes_and_a_failing_portal(tmp_path: Path) -> None:
    with services_for(SCENARIO, shared_postgres=POSTGRES_ADMIN_URL) as services:
        problems = run_scenario(SCENARIO, services, tmp_path, dossiers=2000)
    assert problems == []


def test_the_log_scan_finds_a_personal_value_in_any_form(start_simulators: type[Simulators], tmp_path: Path) -> None:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=5, dossiers=30) as sims:
        records = list(sims.source_state().values())
    applicant = records[7].ChuHoSo
    clean, leaky = tmp_path / "worker-0.log", tmp_path / "worker-1.log"
    clean.write_text("dossier_applied dossier_code=000.00.17.H47 version=3\nWorker has been shut down.\n")
    assert personal_values_logged([clean], records) == []

    # a phone inside a longer line, and a name decomposed (NFD) as some libraries write it
    assert applicant.SoDienThoai and applicant.HoTen
    leaky.write_text(
        f"push_failed remote said: sai SĐT {applicant.SoDienThoai}; người nộp "
        f"{unicodedata.normalize('NFD', applicant.HoTen)}\n",
        encoding="utf-8",
    )
    assert personal_values_logged([clean, leaky], records) == sorted([applicant.SoDienThoai, applicant.HoTen])
