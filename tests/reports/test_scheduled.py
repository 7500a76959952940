"""The scheduler asks for the daily reconciliation; its options are checked when the scheduler starts."""

from __future__ import annotations

import pytest

from foundation.errors import ConfigurationError
from foundation.topology import System, Topology, TopologyFile, load
from reports.scheduled import ReconcileOptions
from schedules.plan import JobKind, daily_job_id, plan
from schedules.timing import Cron
from systems.registry import kind_of
from tests.conftest import TOPOLOGIES


def is_source(system: System) -> bool:
    return kind_of(system).is_source


def test_the_plan_has_a_daily_reconciliation_at_four() -> None:
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    spec = next(s for s in plan(topology, is_source=is_source) if s.kind is JobKind.RECONCILE)
    assert (spec.job_id, spec.schedule) == (daily_job_id(JobKind.RECONCILE), Cron("0 4 * * *"))


def test_the_defaults_are_a_tenth_at_two_calls_a_second() -> None:
    assert ReconcileOptions.of(load(TOPOLOGIES / "quang-nam-2023.yaml")) == ReconcileOptions(sample=0.1, rate=2.0)


@pytest.mark.parametrize(("key", "value"), [("reconcile_sample", 1.5), ("reconcile_sample", 0), ("reconcile_rate", 0)])
def test_options_out_of_range_are_refused(key: str, value: float) -> None:
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    spec = topology.spec.model_dump()
    spec["systems"] = [
        {**s, "options": {**s["options"], key: value}} if s["name"] == "dvcqg" else s for s in spec["systems"]
    ]
    with pytest.raises(ConfigurationError, match=key):
        ReconcileOptions.of(Topology(TopologyFile.model_validate(spec)))
