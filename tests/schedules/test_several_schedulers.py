"""Done-when 1: three scheduler processes over several ticks enqueue each job exactly once per tick."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from hub.store.db import Database
from hub.store.models import Message
from migrations import upgrade
from schedules import control
from schedules.models import ScheduleTick
from tests.schedules.conftest import SOURCE, Processes
from tests.waiting import eventually

UNITS = ("20965", "20968", "517")
ONLY = [arg for unit in UNITS for arg in ("--only", f"poll:{SOURCE}:{unit}")]
TICKS = 5
# Two seconds: a tick is claimed at the newest tick of the schedule, so a scheduler starved of CPU for more than
# a whole period coalesces into the next tick (by design); two seconds keeps that out of a loaded test machine.
EVERY = 2


def _enqueued(db: Database) -> list[tuple[str, datetime]]:
    """(unit, tick) of every poll the schedulers enqueued, read from the tick each poll's reason carries."""
    with db.session() as session:
        rows = session.scalars(select(Message).where(Message.kind == "poll")).all()
    return [(m.unit_code or "", datetime.fromisoformat(m.payload["reason"].removeprefix("schedule "))) for m in rows]


def _run_three(processes: Processes, db: Database, env: dict[str, str], claims: str) -> None:
    """Start three schedulers, let them share TICKS ticks of every job, then kill them."""
    for _ in range(3):
        processes.scheduler(
            {**env, "DVC_HUB_LOG_LEVEL": "DEBUG"}, "--poll-every", str(EVERY), "--no-workers", "--claims", claims, *ONLY
        )

    def every_unit_ticked() -> bool:
        assert all(child.poll() is None for child in processes.children), processes.logs()
        per_unit = Counter(unit for unit, _ in _enqueued(db))
        return len(per_unit) == len(UNITS) and min(per_unit.values()) >= TICKS

    try:
        eventually(every_unit_ticked, timeout=90, what=f"{TICKS} ticks of every unit", every=0.2)
    finally:
        processes.kill_all()


def _assert_once_per_tick(enqueued: list[tuple[str, datetime]], processes: Processes) -> None:
    counts = Counter(enqueued)
    assert counts, processes.logs()
    twice = {key: n for key, n in counts.items() if n > 1}
    assert twice == {}, f"enqueued more than once: {twice}"
    for unit in UNITS:
        ticks = sorted(tick for u, tick in counts if u == unit)
        # several ticks, and none skipped while the schedulers ran
        assert len(ticks) >= TICKS, (unit, ticks)
        steps = {b - a for a, b in itertools.pairwise(ticks)}
        assert steps == {timedelta(seconds=EVERY)}, (unit, ticks)


def _assert_all_raced(processes: Processes) -> None:
    """Every scheduler woke at the ticks and either won or lost the claim: the once-per-tick was contended."""
    for log in processes.tmp_path.glob("scheduler-*.log"):
        text = log.read_text(errors="replace")
        assert text.count("schedule.ran") + text.count("schedule.taken") >= TICKS, text


@pytest.mark.slow
@pytest.mark.redis
def test_three_schedulers_claiming_in_redis_enqueue_each_tick_once(
    processes: Processes, sqlite_url: str, redis_url: str
) -> None:
    upgrade(sqlite_url)
    db = Database(sqlite_url)
    _run_three(processes, db, {"DVC_HUB_DATABASE_URL": sqlite_url, "DVC_HUB_BROKER_URL": redis_url}, "redis")
    enqueued = _enqueued(db)
    _assert_once_per_tick(enqueued, processes)
    client = redis.Redis.from_url(redis_url)
    claimed = Counter(
        (key.decode().rsplit(":", 4)[0].rsplit(":", 1)[1], datetime.fromisoformat(key.decode().split(":", 5)[5]))
        for key in client.scan_iter("dvc-hub:tick:*")
    )
    client.close()
    assert claimed == Counter(enqueued)
    _assert_all_raced(processes)
    assert {j.job_id: j.last_outcome is not None for j in control.list_jobs(db)} == {
        f"poll:{SOURCE}:{u}": True for u in UNITS
    }
    db.dispose()


@pytest.mark.slow
def test_three_schedulers_claiming_in_the_database_enqueue_each_tick_once(
    processes: Processes, any_db_url: str
) -> None:
    url = any_db_url
    upgrade(url)
    db = Database(url)
    _run_three(processes, db, {"DVC_HUB_DATABASE_URL": url, "DVC_HUB_BROKER_URL": "memory://"}, "database")
    enqueued = _enqueued(db)
    _assert_once_per_tick(enqueued, processes)
    with db.session() as session:
        claimed = Counter((t.job_id.rsplit(":", 1)[1], t.tick_at) for t in session.scalars(select(ScheduleTick)))
    assert Counter(enqueued) == claimed
    _assert_all_raced(processes)
    db.dispose()
