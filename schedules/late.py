"""The daily late-dossier scan: which dossiers are late today, kept in ``late_dossiers`` for the admin console.

A dossier is late when it finished after its appointment day, or is still open past it; the rule is the canonical
model's (:meth:`mappings.canonical.Dossier.is_late`), applied here to the hub's ``dossiers`` rows. The database
narrows the candidates with the (status, appointment) index; the rule decides. Rows of dossiers that are no longer
late (an apology moved the appointment, or a re-sync corrected a date) are removed, so the table is always today's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import and_, delete, or_, select

from foundation.clock import VN_TZ, utcnow
from hub.store.db import Database
from hub.store.models import Dossier, LateDossier
from mappings.canonical import Dossier as CanonicalDossier
from mappings.codes import Status

BATCH = 1000


@dataclass(frozen=True, slots=True)
class ScanResult:
    late: int
    new: int
    cleared: int

    def __str__(self) -> str:
        return f"{self.late} hồ sơ trễ hạn (late), {self.new} mới (new), {self.cleared} hết trễ (cleared)"


def is_late(row: Dossier, today: date) -> bool:
    """The canonical rule on a stored row: only the three fields it reads are set, so nothing is re-validated."""
    fields: dict[str, Any] = {
        "status": Status(row.status),
        "appointment_at": _vn(row.appointment_at),
        "finished_at": _vn(row.finished_at),
    }
    return CanonicalDossier.model_construct(**fields).is_late(today)


def scan(db: Database, today: date) -> ScanResult:
    """Record every dossier late on ``today`` (a Vietnam calendar day) and forget those no longer late."""
    start_of_today = datetime.combine(today, time.min, tzinfo=VN_TZ).astimezone(UTC)
    candidates = select(Dossier).where(
        Dossier.appointment_at.is_not(None),
        or_(
            and_(Dossier.finished_at.is_(None), Dossier.appointment_at < start_of_today),
            Dossier.finished_at > Dossier.appointment_at,
        ),
    )
    late_codes: set[str] = set()
    new = 0
    with db.session() as session:
        known = set(session.scalars(select(LateDossier.dossier_code)))
        for row in session.scalars(candidates.execution_options(yield_per=BATCH)):
            if not is_late(row, today):
                continue
            late_codes.add(row.code)
            appointment_on = _vn_day(row.appointment_at)
            finished_on = _vn_day(row.finished_at) if row.finished_at is not None else None
            days_late = ((finished_on or today) - appointment_on).days
            fields = {
                "unit_code": row.processing_unit or row.receiving_unit,
                "procedure_code": row.national_procedure_code or row.local_procedure_code,
                "status": row.status,
                "appointment_on": appointment_on,
                "finished_on": finished_on,
                "days_late": days_late,
            }
            if row.code in known:
                existing = session.get(LateDossier, row.code)
                if existing is not None:
                    for key, value in fields.items():
                        setattr(existing, key, value)
            else:
                new += 1
                session.add(LateDossier(dossier_code=row.code, detected_at=utcnow(), **fields))
        cleared = sorted(known - late_codes)
        for start in range(0, len(cleared), BATCH):
            chunk = cleared[start : start + BATCH]
            session.execute(delete(LateDossier).where(LateDossier.dossier_code.in_(chunk)))
    return ScanResult(late=len(late_codes), new=new, cleared=len(cleared))


def _vn(value: datetime | None) -> datetime | None:
    return value.astimezone(VN_TZ) if value is not None else None


def _vn_day(value: datetime | None) -> date:
    if value is None:
        raise ValueError("a late dossier always has an appointment")
    return value.astimezone(VN_TZ).date()
