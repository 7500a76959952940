"""Reads the hub's store into :class:`~reports.register.Facts`: each dossier's newest canonical data, the appointment
of the first version the hub accepted (the one that counts, even after an apology moved it), and what the national
portal was last sent. The only module of ``reports`` that reads the dossier tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from foundation.clock import VN_TZ
from foundation.logs import get_logger
from hub.store.db import Database
from hub.store.models import Delivery, Dossier, DossierVersion, Message, MessageState
from mappings.canonical import Dossier as CanonicalDossier
from reports.register import Facts

BATCH = 500
POLL = "poll"  # the kind of the message that reads a unit's change feed (hub.sync)
log = get_logger(__name__)


def day_start(day: date) -> datetime:
    """Midnight of a Vietnam calendar day, in UTC as the store keeps it."""
    return datetime.combine(day, time.min, tzinfo=VN_TZ).astimezone(UTC)


def load_facts(db: Database, portal: str, start: date, end: date) -> list[Facts]:
    """Every dossier received by ``end`` and not finished before ``start`` (Vietnam days), with its facts."""
    query = (
        select(Dossier)
        .where(
            or_(Dossier.received_at.is_(None), Dossier.received_at < day_start(end + timedelta(days=1))),
            or_(Dossier.finished_at.is_(None), Dossier.finished_at >= day_start(start)),
        )
        .order_by(Dossier.code)
    )
    with db.session() as session:
        return _facts(session, list(session.scalars(query)), portal)


def load_dossier(db: Database, portal: str, code: str) -> Facts | None:
    """One dossier's facts by its code (an apology letter's), or None when the store does not hold it."""
    with db.session() as session:
        found = _facts(session, list(session.scalars(select(Dossier).where(Dossier.code == code))), portal)
    return found[0] if found else None


def _facts(session: Session, rows: Sequence[Dossier], portal: str) -> list[Facts]:
    facts: list[Facts] = []
    for chunk in _chunks(rows):
        codes = [row.code for row in chunk]
        firsts = _first_appointments(session, codes)
        delivered = _delivered(session, codes, portal)
        for row in chunk:
            try:
                dossier = CanonicalDossier.model_validate(row.data)
            except ValidationError as exc:
                # The hub only stores validated dossiers; a row that no longer validates (a model change, a
                # hand edit) is left out of the report and named in the log, not allowed to break every report.
                log.warning("report_dossier_unreadable", dossier_code=row.code, errors=exc.error_count())
                continue
            facts.append(
                Facts(
                    dossier=dossier,
                    first_appointment=firsts.get(row.code),
                    delivered_version=delivered.get(row.code),
                    hub_version=row.version,
                    changed_at=row.updated_at,
                )
            )
    return facts


def known_until(db: Database, now: datetime) -> datetime:
    """How far the store knows the world, on the one-stop-shops' clock; never later than ``now``.

    The newest change the hub accepted happened at its source at ``source_updated_at``; every poll that succeeded
    after the hub accepted it found nothing newer, so the world is known for as long again past that change. On the
    hub's own clock that is simply the last successful poll; measured from the change it also holds for sources on
    another clock (the demo's simulated one). An empty store knows nothing to hold back: ``now``.
    """
    with db.session() as session:
        newest = session.execute(
            select(Dossier.source_updated_at, Dossier.updated_at).order_by(Dossier.source_updated_at.desc()).limit(1)
        ).first()
        if newest is None:
            return now
        changed_at, accepted_at = newest
        # Only polls since the change count; the bound keeps the read on ix_messages_state_updated short.
        polled: datetime | None = session.scalar(
            select(func.max(Message.updated_at)).where(
                Message.state == MessageState.SUCCEEDED.value, Message.updated_at >= accepted_at, Message.kind == POLL
            )
        )
    quiet_since = polled - accepted_at if polled is not None else timedelta(0)
    return min(now, changed_at + quiet_since)


def _chunks(rows: Sequence[Dossier]) -> Iterator[Sequence[Dossier]]:
    for begin in range(0, len(rows), BATCH):
        yield rows[begin : begin + BATCH]


def _first_appointments(session: Session, codes: list[str]) -> dict[str, datetime]:
    firsts = (
        select(DossierVersion.dossier_code, func.min(DossierVersion.version))
        .where(DossierVersion.dossier_code.in_(codes))
        .group_by(DossierVersion.dossier_code)
    )
    pairs = [(code, version) for code, version in session.execute(firsts)]
    if not pairs:
        return {}
    query = select(DossierVersion.dossier_code, DossierVersion.data).where(
        tuple_(DossierVersion.dossier_code, DossierVersion.version).in_(pairs)
    )
    found: dict[str, datetime] = {}
    for code, data in session.execute(query):
        appointment = _appointment(data)
        if appointment is not None:
            found[code] = appointment
    return found


def _appointment(data: dict[str, Any]) -> datetime | None:
    raw = data.get("appointment_at")
    return datetime.fromisoformat(raw).astimezone(VN_TZ) if isinstance(raw, str) else None


def _delivered(session: Session, codes: list[str], portal: str) -> dict[str, int]:
    query = (
        select(Delivery.dossier_code, func.max(Delivery.dossier_version))
        .where(Delivery.dossier_code.in_(codes), Delivery.target == portal)
        .group_by(Delivery.dossier_code)
    )
    return {code: version for code, version in session.execute(query)}
