"""The scheduler asks for the daily reconciliation; its options are checked when the scheduler starts."""

from __future__ import annotations

from datetime import datetime

import pytest

from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError
from foundation.settings import Settings
from foundation.topology import Topology, TopologyFile, load
from hub.store.db import Database
from reports.scheduled import DailyReconciliation
from schedules.plan import JobKind, JobSpec, daily_job_id, plan
from schedules.runner import HubRunner
from schedules.timing import Cron
from tests.conftest import TOPOLOGIES

TICK = datetime(2023, 10, 6, 4, 0, tzinfo=VN_TZ)


def test_the_plan_has_a_daily_reconciliation_at_four() -> None:
    spec = next(s for s in plan(load(TOPOLOGIES / "quang-nam-2023.yaml")) if s.kind is JobKind.RECONCILE)
    assert (spec.job_id, spec.schedule) == (daily_job_id(JobKind.RECONCILE), Cron("0 4 * * *"))


def test_the_runner_hands_the_tick_to_the_reconciliation(db: Database) -> None:
    seen: list[datetime] = []

    def reconcile(tick: datetime) -> str:
        seen.append(tick)
        return "đối soát 2 đơn vị"

    spec = JobSpec(daily_job_id(JobKind.RECONCILE), JobKind.RECONCILE, Cron("0 4 * * *"))
    assert HubRunner(db, None, lambda: None, reconcile=reconcile)(spec, TICK) == "đối soát 2 đơn vị"  # type: ignore[arg-type]
    assert seen == [TICK]
    assert "not wired" in HubRunner(db, None, lambda: None)(spec, TICK)  # type: ignore[arg-type]


def test_a_sample_outside_zero_to_one_is_refused(db: Database) -> None:
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    spec = topology.spec.model_dump()
    spec["systems"] = [
        {**s, "options": {**s["options"], "reconcile_sample": 1.5}} if s["name"] == "dvcqg" else s
        for s in spec["systems"]
    ]
    changed = Topology(TopologyFile.model_validate(spec))
    with pytest.raises(ConfigurationError, match="reconcile_sample"):
        DailyReconciliation(db, changed, Settings(_env_file=None))
