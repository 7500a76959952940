"""The daily catalogue refreshes: the national portal's procedure catalogue and agency catalogue, kept in
``catalogue_procedures`` and ``catalogue_agencies``, run by the ``refresh_catalogue`` actor.

The portal's kind reads its catalogues (``SystemKind.catalogue``); this keeps them. Each refresh upserts every entry
the portal lists and marks the rows it no longer lists inactive (never deleted: old dossiers keep pointing at them).
An empty answer changes nothing: a portal that answers "no procedures" is far more likely broken than empty, and
deactivating the whole catalogue would hide every procedure's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from foundation.clock import utcnow
from foundation.errors import ConfigurationError
from hub import claims
from hub.context import HubContext
from hub.store.db import Database
from hub.store.models import NAME, Base
from systems.kind import CatalogueEntry
from systems.registry import kind_of


class CatalogueRow:
    """What every catalogue table keeps: the portal's code, its record as received, and when it was listed."""

    code: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    data: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once the catalogue stops listing it
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueProcedure(CatalogueRow, Base):
    """A procedure of the national catalogue, as last seen by the daily refresh."""

    __tablename__ = "catalogue_procedures"

    name: Mapped[str] = mapped_column(String(1000))
    field_code: Mapped[str | None] = mapped_column(String(NAME))
    field_name: Mapped[str | None] = mapped_column(String(500))
    level: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("ix_catalogue_procedures_field", "field_code"),)


class CatalogueAgency(CatalogueRow, Base):
    """An agency of the portal's catalogue, as last seen by the daily refresh."""

    __tablename__ = "catalogue_agencies"

    name: Mapped[str] = mapped_column(String(500))
    parent_code: Mapped[str | None] = mapped_column(String(NAME))
    level: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("ix_catalogue_agencies_parent", "parent_code"),)


TABLES: dict[str, type[CatalogueRow]] = {
    "procedures": CatalogueProcedure,
    "agencies": CatalogueAgency,
}


@dataclass(frozen=True, slots=True)
class RefreshResult:
    seen: int
    added: int
    deactivated: int

    def __str__(self) -> str:
        return f"{self.seen} bản ghi (records), {self.added} mới (new), {self.deactivated} ngừng (no longer listed)"


def run_refresh(ctx: HubContext, message_id: int) -> str:
    """The ``refresh_catalogue`` actor's work: read the payload's catalogue from the portal, keep it."""

    def work(payload: dict[str, Any]) -> dict[str, Any]:
        system = ctx.topology.systems[payload["system"]]
        reader = kind_of(system).catalogue
        if reader is None:
            raise ConfigurationError(
                f"Hệ thống {system.name} không công bố danh mục (system {system.name} publishes no catalogue)"
            )
        catalogue = payload["catalogue"]
        result = refresh(ctx.db, catalogue, reader(ctx.connectors.target(system.name), catalogue))
        return {"catalogue": catalogue, "seen": result.seen, "added": result.added, "deactivated": result.deactivated}

    return claims.run_claimed(ctx.db, message_id, work, lease_seconds=ctx.settings.message_lease_seconds)


def refresh(db: Database, catalogue: str, entries: Sequence[CatalogueEntry]) -> RefreshResult:
    """Keep ``entries`` as ``catalogue`` ("procedures" or "agencies"): upsert them, deactivate the rows not listed."""
    model = TABLES[catalogue]
    rows = {e.code: {**e.columns, "code": e.code, "name": e.name, "data": e.data} for e in entries}
    if not rows:
        return RefreshResult(0, 0, 0)
    now = utcnow()
    with db.session() as session:
        existing = {row.code: row for row in session.scalars(select(model))}
        added = 0
        for code, values in rows.items():
            row = existing.get(code)
            if row is None:
                session.add(model(**values, active=True, first_seen_at=now, seen_at=now))  # type: ignore[call-arg]
                added += 1
                continue
            for key, value in values.items():
                setattr(row, key, value)
            row.active = True
            row.seen_at = now
        gone = [code for code, row in existing.items() if row.active and code not in rows]
        if gone:
            session.execute(update(model).where(model.code.in_(gone)).values(active=False))
    return RefreshResult(seen=len(rows), added=added, deactivated=len(gone))
