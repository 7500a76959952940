"""One scheduler's behaviour at a tick: claim, run, record; pause; failure; catch-up after downtime."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from connectors.errors import RemoteUnavailable
from hub.store.db import Database
from schedules import control
from schedules.claims import DatabaseClaims
from schedules.models import ScheduleJob
from schedules.plan import JobKind, JobSpec
from schedules.scheduler import Fired, Scheduler
from schedules.timing import Every

POLL = JobSpec("poll:mc:49", JobKind.POLL, Every(60), system="mc", unit_code="49")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A runner that remembers what it was asked to run."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, datetime]] = []

    def __call__(self, spec: JobSpec, tick: datetime) -> str:
        self.runs.append((spec.job_id, tick))
        return f"enqueued {len(self.runs)}"


class TickCounter(Recorder):
    """A recorder that says when it has run ``wanted`` ticks."""

    def __init__(self, wanted: int) -> None:
        super().__init__()
        self.wanted = wanted
        self.enough = threading.Event()

    def __call__(self, spec: JobSpec, tick: datetime) -> str:
        outcome = super().__call__(spec, tick)
        if len(self.runs) >= self.wanted:
            self.enough.set()
        return outcome


def _scheduler(db: Database, runner: object, clock: Clock, owner: str = "a") -> Scheduler:
    scheduler = Scheduler(db, [POLL], DatabaseClaims(db), runner, owner=owner, clock=clock)  # type: ignore[arg-type]
    scheduler.register()
    return scheduler


def test_a_tick_runs_once_and_the_job_row_shows_it(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 26, 4, 0, 12, tzinfo=UTC))
    runs = Recorder()
    first, second = _scheduler(db, runs, clock, "a"), _scheduler(db, runs, clock, "b")
    assert first.fire(POLL) is Fired.RAN
    assert second.fire(POLL) is Fired.TAKEN
    clock.now += timedelta(seconds=30)
    assert second.fire(POLL) is Fired.TAKEN  # still the same tick
    assert runs.runs == [("poll:mc:49", datetime(2026, 11, 26, 4, 0, tzinfo=UTC))]
    [view] = control.list_jobs(db)
    assert view.last_run_at == datetime(2026, 11, 26, 4, 0, 12, tzinfo=UTC)
    assert view.last_outcome == "enqueued 1"
    assert view.next_run_at == datetime(2026, 11, 26, 4, 1, tzinfo=UTC)
    clock.now += timedelta(seconds=30)
    assert second.fire(POLL) is Fired.RAN
    assert runs.runs[-1][1] == datetime(2026, 11, 26, 4, 1, tzinfo=UTC)


def test_a_paused_job_does_not_run_until_resumed(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 26, 4, 0, 5, tzinfo=UTC))
    runs = Recorder()
    scheduler = _scheduler(db, runs, clock)
    control.pause_job(db, POLL.job_id, "operator")
    assert scheduler.fire(POLL) is Fired.PAUSED
    clock.now += timedelta(minutes=3)
    assert scheduler.fire(POLL) is Fired.PAUSED
    assert runs.runs == []
    control.resume_job(db, POLL.job_id, "operator")
    assert scheduler.fire(POLL) is Fired.RAN
    assert runs.runs == [("poll:mc:49", datetime(2026, 11, 26, 4, 3, tzinfo=UTC))]


def test_a_failing_job_records_the_error_and_the_next_tick_runs_again(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 26, 4, 0, 5, tzinfo=UTC))

    def broken(spec: JobSpec, tick: datetime) -> str:
        raise RuntimeError("broker down")

    scheduler = _scheduler(db, broken, clock)
    assert scheduler.fire(POLL) is Fired.FAILED
    [view] = control.list_jobs(db)
    assert view.last_outcome == "lỗi (error) RuntimeError: broker down"
    scheduler.runner = Recorder()
    clock.now += timedelta(minutes=1)
    assert scheduler.fire(POLL) is Fired.RAN


def test_registering_keeps_an_operators_pause(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 26, 4, 0, 5, tzinfo=UTC))
    _scheduler(db, Recorder(), clock)
    control.pause_job(db, POLL.job_id, "operator")
    _scheduler(db, Recorder(), clock)  # a restart registers the jobs again
    with db.session() as session:
        row = session.get(ScheduleJob, POLL.job_id)
        assert row is not None and row.paused


def test_pausing_an_unknown_job_says_so(db: Database) -> None:
    with pytest.raises(control.UnknownJob, match="poll:mc:999"):
        control.pause_job(db, "poll:mc:999", "operator")


def test_missed_ticks_after_downtime_coalesce_into_one_catch_up_run(db: Database) -> None:
    # Given a scheduler that ran a tick and then was down for ten ticks,
    clock = Clock(datetime(2026, 11, 26, 4, 0, 1, tzinfo=UTC))
    runs = Recorder()
    _scheduler(db, runs, clock).fire(POLL)
    clock.now += timedelta(minutes=10, seconds=20)
    # when two schedulers start (each fires every job once at start),
    restarted = [_scheduler(db, runs, clock, "c"), _scheduler(db, runs, clock, "d")]
    fired = [s.fire(POLL) for s in restarted]
    # then the ten missed ticks cost one catch-up run, for the latest tick only.
    assert sorted(fired) == [Fired.RAN, Fired.TAKEN]
    assert [tick for _, tick in runs.runs] == [
        datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 4, 10, tzinfo=UTC),
    ]


def test_a_started_scheduler_fires_at_its_aligned_ticks(db: Database) -> None:
    # Real ticks must pass, the wall clock being what is under test: wait for three of them, not for a time
    runs = TickCounter(wanted=3)
    every_second = JobSpec("poll:mc:517", JobKind.POLL, Every(1), system="mc", unit_code="517")
    scheduler = Scheduler(db, [every_second], DatabaseClaims(db), runs, owner="live")
    scheduler.start()
    try:
        assert runs.enough.wait(timeout=60), f"{len(runs.runs)} ticks in 60 s"
    finally:
        scheduler.shutdown()
    ticks = [tick for _, tick in runs.runs]
    assert all(t.microsecond == 0 for t in ticks)  # whole seconds since the epoch, not process start + n
    # one run per tick, in order; a tick may merge into the next on a starved machine, never run twice
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(ticks))


def test_a_known_hub_error_is_recorded_as_the_outcome(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 26, 4, 0, 5, tzinfo=UTC))

    def portal_down(spec: JobSpec, tick: datetime) -> str:
        raise RemoteUnavailable("Cổng DVCQG không phản hồi (portal unreachable)", status_code=503)

    assert _scheduler(db, portal_down, clock).fire(POLL) is Fired.FAILED
    [view] = control.list_jobs(db)
    assert view.last_outcome == "lỗi (error) RemoteUnavailable: Cổng DVCQG không phản hồi (portal unreachable)"
