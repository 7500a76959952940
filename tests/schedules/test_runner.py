"""The runner asks the hub for every job by recording a message of its kind; it prunes its own ticks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from foundation.topology import System, load
from hub.store.db import Database
from schedules.claims import DatabaseClaims
from schedules.models import ScheduleTick
from schedules.plan import JobKind, JobSpec
from schedules.runner import HubRunner
from schedules.timing import Cron, Every
from tests.conftest import TOPOLOGIES

DAILY = Cron("0 2 * * *")
TICK = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 11:00 on 26/11 in Vietnam


class Requests:
    """The hub's ``outbox.request``, recorded: (kind, payload, columns) per message asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __call__(self, db: Database, kind: str, payload: dict[str, Any], **columns: Any) -> int:
        self.asked.append((kind, payload, columns))
        return 40 + len(self.asked)


def runner(db: Database, requests: Requests, is_source: bool = True) -> HubRunner:
    def source(system: System) -> bool:
        return is_source

    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    return HubRunner(db, DatabaseClaims(db), topology, is_source=source, request=requests)


def test_a_poll_is_asked_for_with_its_tick(db: Database) -> None:
    requests = Requests()
    poll = JobSpec("poll:mc:49", JobKind.POLL, Every(60), system="mc", unit_code="49")
    assert runner(db, requests)(poll, TICK) == "đã xếp hàng lượt đọc (poll enqueued): message 41"
    payload = {"system": "mc", "unit_code": "49", "reason": "schedule 2026-11-26T04:00:00+00:00"}
    assert requests.asked == [("poll", payload, {"unit_code": "49", "source": "mc"})]


def test_the_daily_jobs_are_asked_for_not_run(db: Database) -> None:
    requests = Requests()
    run = runner(db, requests)
    for kind in (JobKind.PROCEDURE_CATALOGUE, JobKind.UNIT_CATALOGUE, JobKind.LATE_SCAN, JobKind.LOG_RETENTION):
        assert "(enqueued): message" in run(JobSpec(f"daily:{kind.value}", kind, DAILY), TICK)
    assert [(kind, {k: v for k, v in payload.items() if k != "tick"}) for kind, payload, _ in requests.asked] == [
        ("daily_catalogue", {"system": "dvcqg", "catalogue": "procedures"}),
        ("daily_catalogue", {"system": "dvcqg", "catalogue": "agencies"}),
        ("daily_late_scan", {"day": "2026-11-26"}),
        ("daily_retention", {"now": "2026-11-26T04:00:00+00:00"}),
    ]


def test_the_reconciliation_is_one_message_per_unit_a_source_serves_for_yesterday(db: Database) -> None:
    requests = Requests()
    outcome = runner(db, requests)(JobSpec("daily:reconcile", JobKind.RECONCILE, DAILY), TICK)
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    served = sorted(u.code for u in topology.active_units(date(2026, 11, 25)) if u.system)
    assert sorted(columns["unit_code"] for _, _, columns in requests.asked) == served
    kind, payload, columns = requests.asked[0]
    assert kind == "daily_reconcile" and columns["target"] == "dvcqg"
    assert (payload["since"], payload["until"]) == ("2026-11-25T00:00:00+07:00", "2026-11-26T00:00:00+07:00")
    assert f"đối soát {len(served)} đơn vị ngày 25/11/2026" in outcome


def test_no_reconciliation_is_asked_for_units_whose_system_is_no_source(db: Database) -> None:
    requests = Requests()
    runner(db, requests, is_source=False)(JobSpec("daily:reconcile", JobKind.RECONCILE, DAILY), TICK)
    assert requests.asked == []


def test_the_runner_prunes_old_ticks_itself(db: Database) -> None:
    requests = Requests()
    claims = DatabaseClaims(db)
    claims.claim("poll:mc:49", TICK - timedelta(days=8), "old", period=timedelta(minutes=1))
    claims.claim("poll:mc:49", TICK - timedelta(days=1), "recent", period=timedelta(minutes=1))
    assert "1" in runner(db, requests)(JobSpec("daily:tick-prune", JobKind.TICK_PRUNE, DAILY), TICK)
    with db.session() as session:
        assert list(session.scalars(select(ScheduleTick.claimed_by))) == ["recent"]
    assert requests.asked == []
