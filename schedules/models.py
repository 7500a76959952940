"""The schedules' own tables: each job's state (paused, last and next run) and the claimed ticks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.clock import utcnow
from hub.store.models import Base


class ScheduleJob(Base):
    """A periodic job's state: paused or not, its last run and outcome."""

    __tablename__ = "schedule_jobs"

    job_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    last_run_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScheduleTick(Base):
    """A claimed tick of a job: the primary key makes every tick fire once, whatever schedulers run."""

    __tablename__ = "schedule_ticks"

    job_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    tick_at: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
