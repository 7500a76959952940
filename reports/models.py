"""The table reports add: reconciliation runs and the differences each found (registered in migrations/env.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.clock import utcnow
from hub.store.models import CODE, NAME, UNIT, Base
from hub.store.types import BigId, Json


class ReconciliationRun(Base):
    """One comparison of a unit's one-stop-shop with the national portal over a date range."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(UNIT))
    source: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(60))
    range_from: Mapped[datetime]
    range_to: Mapped[datetime]
    sample: Mapped[float] = mapped_column(
        Float
    )  # the share of the source's dossiers looked up at the portal; 1.0 = all
    listed: Mapped[int] = mapped_column(Integer, default=0)
    checked: Mapped[int] = mapped_column(Integer, default=0)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    replay_job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("replay_jobs.id"))
    created_by: Mapped[str | None] = mapped_column(String(NAME))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_reconciliation_runs_unit", "unit_code", "started_at"),)


class LateDossier(Base):
    """A dossier found late by the daily scan: the agency owes the applicant an apology and a new date."""

    __tablename__ = "late_dossiers"

    dossier_code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(UNIT))
    procedure_code: Mapped[str | None] = mapped_column(String(NAME))
    status: Mapped[int] = mapped_column(SmallInteger)
    appointment_on: Mapped[date] = mapped_column(Date)
    finished_on: Mapped[date | None] = mapped_column(Date)
    days_late: Mapped[int] = mapped_column(Integer)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_late_dossiers_unit", "unit_code", "appointment_on"),)
