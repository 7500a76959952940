"""Which jobs a topology asks for."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from foundation.errors import ConfigurationError
from foundation.topology import System, Topology, TopologyFile, load
from schedules.plan import JobKind, plan
from schedules.timing import Cron, Every
from systems.registry import kind_of
from tests.conftest import TOPOLOGIES


def is_source(system: System) -> bool:
    return kind_of(system).is_source


def _topology(system_options: dict[str, Any], unit_interval: int | None = None) -> Topology:
    return Topology(
        TopologyFile.model_validate(
            {
                "name": "t",
                "targets": ["dvcqg"],
                "systems": [
                    {
                        "name": "mc",
                        "kind": "fake",
                        "base_url": "fake://mc",
                        "poll_interval": 30,
                        "options": system_options,
                    },
                    {
                        "name": "dvcqg",
                        "kind": "dvcqg-session",
                        "base_url": "http://127.0.0.1:1/dvcqg",
                        "options": {"procedure_catalogue_cron": "0 1 * * *"},
                    },
                ],
                "units": [
                    {"code": "49", "name": "Tỉnh", "level": "province", "agency_id": "000.00.00.H47", "system": "mc"},
                    {
                        "code": "517",
                        "name": "Huyện",
                        "level": "district",
                        "parent": "49",
                        "agency_id": "000.00.17.H47",
                        "system": "mc",
                        "poll_interval": unit_interval,
                    },
                    {
                        "code": "502",
                        "name": "Cũ",
                        "level": "district",
                        "parent": "49",
                        "agency_id": "000.00.02.H47",
                        "valid_to": "2020-01-01",
                    },
                ],
            }
        )
    )


def test_every_active_unit_gets_a_poll_and_the_daily_jobs_follow() -> None:
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    specs = plan(topology, on=date(2024, 1, 1), is_source=is_source)
    polls = [s for s in specs if s.kind is JobKind.POLL]
    assert len(polls) == len(topology.active_units(date(2024, 1, 1))) == 20
    assert polls[0].job_id == "poll:motcua-quangnam:49"
    assert all(s.schedule == Every(60) for s in polls)
    daily = {s.kind: s for s in specs if s.kind is not JobKind.POLL}
    assert set(daily) == {
        JobKind.LATE_SCAN,
        JobKind.PROCEDURE_CATALOGUE,
        JobKind.UNIT_CATALOGUE,
        JobKind.TICK_PRUNE,
        JobKind.RECONCILE,
        JobKind.LOG_RETENTION,
    }
    assert daily[JobKind.PROCEDURE_CATALOGUE].system == "dvcqg"
    assert daily[JobKind.PROCEDURE_CATALOGUE].job_id == "daily:procedure-catalogue"


def test_the_two_level_topology_polls_only_the_units_valid_that_day() -> None:
    topology = load(TOPOLOGIES / "da-nang-2025.yaml")
    before = {
        (s.system, s.unit_code)
        for s in plan(topology, on=date(2025, 6, 30), is_source=is_source)
        if s.kind is JobKind.POLL
    }
    after = {
        (s.system, s.unit_code)
        for s in plan(topology, on=date(2025, 7, 1), is_source=is_source)
        if s.kind is JobKind.POLL
    }
    # until 30 June Quảng Nam's one-stop-shop serves the 2023 units; from 1 July Đà Nẵng's serves the new ones
    assert {system for system, _ in before} == {"motcua-quangnam"}
    assert {code for _, code in before} == {u.code for u in topology.units if u.valid_to == date(2025, 6, 30)}
    assert after == {("motcua-danang", code) for code in ("48", "20965", "20971", "20984", "20977", "21004", "20992")}


def test_intervals_come_from_the_unit_or_its_system_and_retired_units_are_not_polled() -> None:
    specs = {s.job_id: s for s in plan(_topology({}, unit_interval=15), on=date(2024, 1, 1), is_source=is_source)}
    assert specs["poll:mc:49"].schedule == Every(30)
    assert specs["poll:mc:517"].schedule == Every(15)
    assert "poll:mc:502" not in specs
    assert specs["daily:procedure-catalogue"].schedule == Cron("0 1 * * *")
    assert specs["daily:late-scan"].schedule == Cron("5 0 * * *")


def test_cron_options_override_the_interval_per_system_and_per_unit() -> None:
    options = {"poll_cron": "*/10 7-17 * * 1-5", "unit_poll_cron": {"517": "*/2 * * * *"}}
    specs = {s.job_id: s for s in plan(_topology(options), on=date(2024, 1, 1), is_source=is_source)}
    assert specs["poll:mc:49"].schedule == Cron("*/10 7-17 * * 1-5")
    assert specs["poll:mc:517"].schedule == Cron("*/2 * * * *")


def test_a_wrong_cron_option_names_where_it_is() -> None:
    with pytest.raises(ConfigurationError, match="cron"):
        plan(_topology({"poll_cron": "every day"}), on=date(2024, 1, 1), is_source=is_source)
    with pytest.raises(ConfigurationError, match="unit_poll_cron"):
        plan(_topology({"unit_poll_cron": ["517"]}), on=date(2024, 1, 1), is_source=is_source)
