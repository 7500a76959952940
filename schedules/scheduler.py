"""The scheduler process: wakes at every tick of every job, claims the tick, and runs it if the claim is its own.

Several schedulers may run at once for availability. They all compute the same tick identity from the job's
schedule (:mod:`schedules.timing`) and race for its claim (:mod:`schedules.claims`); the winner runs the job (for a
poll: enqueues it), records the outcome on the job's ``schedule_jobs`` row, and the others do nothing.

APScheduler 3 keeps the clock. Each process uses its in-memory job store (3.x's shared job stores are not safe with
several schedulers) with ``coalesce=True`` and a misfire grace of one period, so a process that was suspended runs
a job once, not once per missed tick. At start every job fires once immediately: if its latest tick was missed
while no scheduler ran, this is the one catch-up run; if another scheduler already ran it, the claim fails and
nothing happens. A poll then catches up by itself from the unit's watermark.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from foundation.errors import HubError
from foundation.logs import get_logger
from hub.store.db import Database
from schedules.claims import Claims
from schedules.models import ScheduleJob
from schedules.plan import JobSpec

log = get_logger(__name__)

# Runs a claimed tick of a job and says in a few words how it went; raising marks the run as failed.
Runner = Callable[[JobSpec, datetime], str]
Clock = Callable[[], datetime]

OUTCOME_MAX = 2000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Fired(StrEnum):
    """What one scheduler did at a tick."""

    RAN = "ran"  # claimed it and the job succeeded
    FAILED = "failed"  # claimed it and the job raised
    TAKEN = "taken"  # another scheduler claimed it first
    PAUSED = "paused"  # an operator paused the job


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Scheduler:
    """One scheduler process's clock over a list of jobs."""

    def __init__(
        self,
        db: Database,
        specs: Sequence[JobSpec],
        claims: Claims,
        runner: Runner,
        *,
        owner: str | None = None,
        clock: Clock = utcnow,
        max_workers: int = 8,
    ) -> None:
        self.db = db
        self.specs = {spec.job_id: spec for spec in specs}
        self.claims = claims
        self.runner = runner
        self.owner = owner or default_owner()
        self.clock = clock
        self.max_workers = max_workers
        self._aps: BaseScheduler | None = None

    def register(self) -> None:
        """Make sure every job has its ``schedule_jobs`` row (paused state survives restarts) and a next run."""
        now = self.clock()
        with self.db.session() as session:
            _ensure_rows(session, self.specs)
            # In id order, so that schedulers starting together lock the rows in the same order (no deadlock).
            rows = select(ScheduleJob).where(ScheduleJob.job_id.in_(sorted(self.specs))).order_by(ScheduleJob.job_id)
            for row in session.scalars(rows):
                row.next_run_at = self.specs[row.job_id].schedule.next_after(now)

    def start(self, *, blocking: bool = False) -> None:
        """Register the jobs and start the clock; with ``blocking`` this call returns only at shutdown."""
        self.register()
        aps: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
            executors={"default": ThreadPoolExecutor(self.max_workers)},
            timezone=UTC,
        )
        now = self.clock()
        for spec in self.specs.values():
            aps.add_job(
                self.fire,
                trigger=spec.schedule.trigger(),
                args=(spec,),
                id=spec.job_id,
                name=spec.describe(),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(spec.schedule.period(now).total_seconds())),
                next_run_time=now,  # the catch-up run; a no-op when the latest tick was already claimed
            )
        self._aps = aps
        log.info("scheduler.started", owner=self.owner, jobs=len(self.specs))
        aps.start()

    def shutdown(self, *, wait: bool = True) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=wait)
        log.info("scheduler.stopped", owner=self.owner)

    def fire(self, spec: JobSpec) -> Fired:
        """One wake-up of ``spec``: skip if paused, claim the current tick, run it if the claim is ours."""
        now = self.clock()
        tick = spec.schedule.latest(now)
        if self._paused(spec.job_id):
            log.info("schedule.paused", job_id=spec.job_id, tick=tick.isoformat())
            return Fired.PAUSED
        if not self.claims.claim(spec.job_id, tick, self.owner, period=spec.schedule.period(now)):
            log.debug("schedule.taken", job_id=spec.job_id, tick=tick.isoformat())
            return Fired.TAKEN
        fired = Fired.RAN
        try:
            outcome = self.runner(spec, tick)
        except HubError as exc:  # a known failure (remote down, bad configuration): its message says it all
            fired = Fired.FAILED
            outcome = f"lỗi (error) {type(exc).__name__}: {exc}"
            log.warning("schedule.failed", job_id=spec.job_id, tick=tick.isoformat(), error=str(exc))
        except Exception as exc:  # a failing job must not stop the clock; its row shows the error instead
            fired = Fired.FAILED
            outcome = f"lỗi (error) {type(exc).__name__}: {exc}"
            log.exception("schedule.failed", job_id=spec.job_id, tick=tick.isoformat())
        else:
            log.info("schedule.ran", job_id=spec.job_id, tick=tick.isoformat(), outcome=outcome)
        self._record(spec, now, outcome)
        return fired

    def _paused(self, job_id: str) -> bool:
        with self.db.session() as session:
            return bool(session.scalar(select(ScheduleJob.paused).where(ScheduleJob.job_id == job_id)))

    def _record(self, spec: JobSpec, ran_at: datetime, outcome: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(ScheduleJob)
                .where(ScheduleJob.job_id == spec.job_id)
                .values(
                    last_run_at=ran_at,
                    last_outcome=outcome[:OUTCOME_MAX],
                    next_run_at=spec.schedule.next_after(self.clock()),
                    updated_at=utcnow(),
                )
            )


def _ensure_rows(session: Session, specs: Mapping[str, JobSpec]) -> None:
    """Insert the jobs' rows that do not exist yet; schedulers starting together may race, so conflicts are fine."""
    rows = [{"job_id": job_id, "paused": False, "updated_at": utcnow()} for job_id in sorted(specs)]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    session.execute(insert(ScheduleJob).values(rows).on_conflict_do_nothing(index_elements=["job_id"]))
