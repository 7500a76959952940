"""What an operator does with periodic jobs, from the CLI or the admin console: list, pause, resume.

A pause is a flag on the job's ``schedule_jobs`` row; every scheduler reads it at each tick, so it takes effect at
the next tick in every process without restarting anything. Pauses and resumes are written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.store.db import Database
from hub.store.models import AuditAction, AuditEntry
from schedules.models import ScheduleJob


class UnknownJob(LookupError):
    """Raised when no scheduler has registered a job with that id."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Không có tác vụ định kỳ {job_id!r}; xem 'dvc-hub jobs list' (no scheduled job {job_id!r})")
        self.job_id = job_id


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as the console lists it."""

    job_id: str
    paused: bool
    last_run_at: datetime | None
    last_outcome: str | None
    next_run_at: datetime | None


def list_jobs(db: Database) -> list[JobView]:
    """Every registered job, by id."""
    with db.session() as session:
        return jobs_in(session)


def jobs_in(session: Session) -> list[JobView]:
    """Every registered job, by id, read in the caller's transaction (the console's dashboard and alerts)."""
    rows = session.scalars(select(ScheduleJob).order_by(ScheduleJob.job_id))
    return [JobView(r.job_id, r.paused, r.last_run_at, r.last_outcome, r.next_run_at) for r in rows]


def pause_job(db: Database, job_id: str, user: str | None) -> JobView:
    """Stop a job from firing at its next ticks until it is resumed."""
    return _set_paused(db, job_id, True, user)


def resume_job(db: Database, job_id: str, user: str | None) -> JobView:
    """Let a paused job fire again; a poll then catches up from its watermark."""
    return _set_paused(db, job_id, False, user)


def _set_paused(db: Database, job_id: str, paused: bool, user: str | None) -> JobView:
    with db.session() as session:
        row = session.get(ScheduleJob, job_id, with_for_update=True)
        if row is None:
            raise UnknownJob(job_id)
        was = row.paused
        row.paused = paused
        session.add(
            AuditEntry(
                username=user,
                action=AuditAction.SCHEDULE_PAUSE if paused else AuditAction.SCHEDULE_RESUME,
                subject=job_id,
                details={"was_paused": was},
            )
        )
        return JobView(row.job_id, row.paused, row.last_run_at, row.last_outcome, row.next_run_at)
