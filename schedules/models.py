"""Tables the schedules add: backfill progress, and the portal's catalogues the daily jobs keep fresh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.clock import utcnow
from hub.store.models import NAME, UNIT, Base


class BackfillRun(Base):
    """How far a backfill of one (system, unit, date range) has durably got, so a restart resumes there."""

    __tablename__ = "backfill_runs"

    system: Mapped[str] = mapped_column(String(60), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(UNIT), primary_key=True)
    range_from: Mapped[datetime] = mapped_column(primary_key=True)
    range_to: Mapped[datetime] = mapped_column(primary_key=True)
    done_until: Mapped[datetime]  # every change before this instant has been recorded
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12))  # running, done
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class CatalogueRow:
    """What every catalogue table keeps: the portal's code, its record as received, and when it was listed."""

    code: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    data: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once the catalogue stops listing it
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueProcedure(CatalogueRow, Base):
    """A procedure of the national catalogue (LayDanhSachTTHC, code = MaTTHC), as last seen by the daily refresh."""

    __tablename__ = "catalogue_procedures"

    name: Mapped[str] = mapped_column(String(1000))
    field_code: Mapped[str | None] = mapped_column(String(NAME))
    field_name: Mapped[str | None] = mapped_column(String(500))
    level: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("ix_catalogue_procedures_field", "field_code"),)


class CatalogueAgency(CatalogueRow, Base):
    """An agency of the portal's catalogue (LayDanhMucCoQuan), as last seen by the daily refresh."""

    __tablename__ = "catalogue_agencies"

    name: Mapped[str] = mapped_column(String(500))
    parent_code: Mapped[str | None] = mapped_column(String(NAME))
    level: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("ix_catalogue_agencies_parent", "parent_code"),)
