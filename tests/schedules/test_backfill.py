"""Backfill: chunks, resumption after an interruption, pacing; done-when 3 with a SIGKILL halfway."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.backfill import BackfillRun, ChunkDone, chunks, run_backfill
from hub.context import HubContext
from hub.store.db import Database
from hub.store.models import Dossier, Watermark
from hub.sync import PollResult
from tests.hub.conftest import Hub
from tests.schedules import backfill_child
from tests.schedules.conftest import QUANG_NAM, SOURCE, Processes
from tests.schedules.pump import Pump, synced
from tests.waiting import eventually

START = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_chunks_cover_the_range_half_open_without_gaps() -> None:
    parts = list(chunks(START, START + timedelta(hours=50), timedelta(hours=24)))
    assert parts == [
        (START, START + DAY),
        (START + DAY, START + 2 * DAY),
        (START + 2 * DAY, START + timedelta(hours=50)),
    ]


class Polls:
    """A stand-in for the hub's bounded poll that fails once at a chosen chunk."""

    def __init__(self, fail_at: datetime | None = None) -> None:
        self.calls: list[tuple[str, datetime, datetime]] = []
        self.fail_at = fail_at

    def __call__(self, ctx: HubContext, system: str, unit: str, since: datetime, until: datetime) -> PollResult:
        if since == self.fail_at:
            self.fail_at = None
            raise KeyboardInterrupt  # an operator's Ctrl-C in the middle of a chunk
        self.calls.append((unit, since, until))
        return PollResult(changes=2)


def _ctx(db: Database) -> HubContext:
    return HubContext(settings=None, db=db, topology=None, connectors=None, procedures=None)  # type: ignore[arg-type]


def test_an_interrupted_backfill_resumes_at_the_first_chunk_not_done(db: Database) -> None:
    polls = Polls(fail_at=START + 3 * DAY)
    with pytest.raises(KeyboardInterrupt):
        run_backfill(_ctx(db), "mc", ["20965", "517"], START, START + 5 * DAY, poll=polls)
    assert [since for _, since, _ in polls.calls] == [START, START + DAY, START + 2 * DAY]

    done: list[ChunkDone] = []
    result = run_backfill(_ctx(db), "mc", ["20965", "517"], START, START + 5 * DAY, poll=polls, on_chunk=done.append)

    assert [(u, since) for u, since, _ in polls.calls[3:]] == [
        ("20965", START + 3 * DAY),
        ("20965", START + 4 * DAY),
    ] + [("517", START + n * DAY) for n in range(5)]
    assert [(p.unit_code, p.chunks_done, p.changes, p.state) for p in result] == [
        ("20965", 5, 10, "done"),
        ("517", 5, 10, "done"),
    ]
    assert done[0].chunks_done == 4 and done[0].chunks_total == 5
    with db.session() as session:
        runs = session.scalars(select(BackfillRun)).all()
    assert {(r.unit_code, r.state, r.done_until, r.chunks_done) for r in runs} == {
        ("20965", "done", START + 5 * DAY, 5),
        ("517", "done", START + 5 * DAY, 5),
    }
    polls.calls.clear()
    run_backfill(_ctx(db), "mc", ["20965"], START, START + 5 * DAY, poll=polls)
    assert polls.calls == []  # a finished backfill does nothing again


def test_pace_pauses_between_chunks(db: Database) -> None:
    pauses: list[float] = []
    run_backfill(_ctx(db), "mc", ["20965"], START, START + 3 * DAY, poll=Polls(), pace=0.5, sleep=pauses.append)
    assert pauses == [0.5, 0.5]


def test_a_bounded_backfill_does_not_touch_the_live_watermark(embedded_hub: Hub) -> None:
    codes = backfill_child.history(embedded_hub.source)
    first = backfill_child.FIRST_DAY
    run_backfill(embedded_hub.ctx, SOURCE, ["20965"], first, first + 3 * DAY)
    with embedded_hub.db.session() as session:
        assert session.scalars(select(Watermark)).all() == []
    assert len(synced(embedded_hub)) == 3 * backfill_child.PER_DAY
    assert len(codes) == len(backfill_child.UNITS) * backfill_child.DAYS * backfill_child.PER_DAY


def _chunks_done(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.coalesce(func.sum(BackfillRun.chunks_done), 0))) or 0)


@pytest.mark.slow
def test_a_backfill_killed_halfway_and_restarted_completes_with_every_dossier_once(
    embedded_hub: Hub, processes: Processes
) -> None:
    hub = embedded_hub
    env = {"DVC_HUB_DATABASE_URL": hub.db.url, "DVC_HUB_TOPOLOGY_FILE": str(QUANG_NAM), "DVC_HUB_LOG_LEVEL": "INFO"}
    units = [arg for unit in backfill_child.UNITS for arg in ("--unit", unit)]
    args = [*units, "--from", "2024-03-01", "--to", "2024-03-30", "--chunk-hours", "24", "--pace", "0.1"]
    total = backfill_child.DAYS * len(backfill_child.UNITS)
    code = "import sys; from tests.schedules.backfill_child import main; main(sys.argv[1:])"

    # Given a backfill of 30 days for three units, killed with SIGKILL about halfway,
    first = processes.python(code, env, *args)

    def halfway() -> bool:
        assert first.poll() is None, processes.logs()
        return _chunks_done(hub.db) >= total // 2

    eventually(halfway, timeout=60, what="half the backfill", every=0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    done_at_kill = _chunks_done(hub.db)
    assert total // 2 <= done_at_kill < total

    # when it is started again with the same arguments,
    second = processes.python(code, env, *args)
    assert second.wait(timeout=120) == 0, processes.logs()

    # then it resumed instead of starting over, and finished every unit,
    second_log = sorted(processes.tmp_path.glob("python-*.log"))[-1].read_text(errors="replace")
    assert second_log.count("backfill.chunk") <= total - done_at_kill + len(backfill_child.UNITS)
    with hub.db.session() as session:
        runs = session.scalars(select(BackfillRun)).all()
    assert {(r.state, r.chunks_done) for r in runs} == {("done", backfill_child.DAYS)}
    # every dossier of the 30 days was recorded once,
    expected = backfill_child.history(hub.source)
    assert synced(hub) == Counter({(c, 1): 1 for c in expected})
    # and once the pipeline has processed the recorded syncs, each dossier is in the hub and on the portal once.
    Pump(hub, kinds=("sync",)).until(lambda: _dossiers(hub.db) == len(expected), what="pipeline", timeout=120)
    pushes = Counter(c for call in hub.portal.calls if call.operation == "push_dossiers" for c in call.dossier_codes)
    assert pushes == Counter(expected)


def _dossiers(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Dossier)) or 0)
