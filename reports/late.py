"""The daily late-dossier scan: the month's late-dossier register, kept in ``late_dossiers`` for the admin console.

The register (:mod:`reports.register`) is the one rule of lateness: measured against the **first** appointment (an
apology with a new date does not make a dossier on time), refused, withdrawn and stopped dossiers never late, and
each dossier counted for the unit it belongs to today (a merged commune's for its successor). The scan stores the
register of the running month judged on ``today`` — every dossier still open past its first appointment, and every
one finished late this month — so the console's dashboard and the ``dvc_hub_late_dossiers`` gauge show the figures
the reports show. Rows of dossiers no longer in it are removed, so the table is always today's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import delete, select

from foundation.clock import VN_TZ, utcnow
from foundation.topology import Topology
from hub import claims
from hub.context import HubContext
from hub.store.db import Database
from reports.models import LateDossier
from reports.periods import Grain, period_of
from reports.register import RegisterRow
from reports.rules import Rules, load_rules
from reports.service import Reports

BATCH = 1000


@dataclass(frozen=True, slots=True)
class ScanResult:
    late: int
    new: int
    cleared: int

    def __str__(self) -> str:
        return f"{self.late} hồ sơ trễ hạn (late), {self.new} mới (new), {self.cleared} hết trễ (cleared)"


def register_today(db: Database, topology: Topology, rules: Rules, today: date) -> list[RegisterRow]:
    """The register of the month holding ``today`` (a Vietnam calendar day), judged at the end of ``today``."""
    end_of_today = datetime.combine(today, time.max, tzinfo=VN_TZ)
    return Reports(db, topology, rules).late(period_of(Grain.MONTH, today), end_of_today).rows


def scan(db: Database, topology: Topology, rules: Rules, today: date) -> ScanResult:
    """Store the register of ``today`` in ``late_dossiers`` and forget the dossiers no longer in it."""
    rows = register_today(db, topology, rules, today)
    new = 0
    with db.session() as session:
        known = set(session.scalars(select(LateDossier.dossier_code)))
        for row in rows:
            fields = {
                "unit_code": row.unit.code,
                "procedure_code": row.procedure_code,
                "status": row.status,
                "appointment_on": row.first_appointment,
                "finished_on": row.finished_on,
                "days_late": row.days_late,
            }
            existing = session.get(LateDossier, row.dossier_code) if row.dossier_code in known else None
            if existing is not None:
                for key, value in fields.items():
                    setattr(existing, key, value)
            else:
                new += 1
                session.add(LateDossier(dossier_code=row.dossier_code, detected_at=utcnow(), **fields))
        cleared = sorted(known - {row.dossier_code for row in rows})
        for start in range(0, len(cleared), BATCH):
            chunk = cleared[start : start + BATCH]
            session.execute(delete(LateDossier).where(LateDossier.dossier_code.in_(chunk)))
    return ScanResult(late=len(rows), new=new, cleared=len(cleared))


def run_scan(ctx: HubContext, message_id: int) -> str:
    """The ``scan_late`` actor's work: :func:`scan` on the day the scheduler put in the payload."""

    def work(payload: dict[str, Any]) -> dict[str, Any]:
        result = scan(ctx.db, ctx.topology, load_rules(), date.fromisoformat(payload["day"]))
        return {"late": result.late, "new": result.new, "cleared": result.cleared}

    return claims.run_claimed(ctx.db, message_id, work, lease_seconds=ctx.settings.message_lease_seconds)
