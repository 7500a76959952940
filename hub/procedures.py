"""Procedure-code mappings in the database: versioned rows, CSV import and export, a cached lookup for workers.

A change never edits a row: it inserts version n+1 and deactivates the previous one, so ``history`` shows who
mapped what and when. The admin console and the ``dvc-hub procedures`` commands both go through these functions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foundation.errors import Problem as ErrorProblem
from hub.store.db import Database
from hub.store.models import ProcedureMapping
from mappings.errors import ValidationFailed
from mappings.normalize import name, text
from mappings.procedures import NationalProcedure, parse_csv, to_csv


@dataclass(frozen=True, slots=True)
class MappingVersion:
    """One version of a local code's mapping, as ``history`` and ``get`` return it."""

    local_code: str
    version: int
    target: NationalProcedure
    active: bool
    created_at: datetime
    created_by: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What an import did: new local codes, changed mappings, identical rows left alone."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _version(row: ProcedureMapping) -> MappingVersion:
    return MappingVersion(
        local_code=row.local_code,
        version=row.version,
        target=NationalProcedure(
            national_code=row.national_code,
            field_code=row.field_code,
            field_name=row.field_name,
            procedure_name=row.procedure_name,
        ),
        active=row.active,
        created_at=row.created_at,
        created_by=row.created_by,
        note=row.note,
    )


def _active(session: Session, local_code: str) -> ProcedureMapping | None:
    return session.scalars(
        select(ProcedureMapping).where(ProcedureMapping.local_code == local_code, ProcedureMapping.active.is_(True))
    ).first()


def _put(
    session: Session, local_code: str, target: NationalProcedure, user: str | None, note: str | None
) -> tuple[str, ProcedureMapping]:
    """Insert a new version unless the active one already says the same; says created/updated/unchanged."""
    current = _active(session, local_code)
    if current is not None and _version(current).target == target:
        return "unchanged", current
    latest = session.scalar(select(func.max(ProcedureMapping.version)).where(ProcedureMapping.local_code == local_code))
    if current is not None:
        current.active = False
        session.flush()  # the deactivation must precede the insert for the (local_code, active) readers
    row = ProcedureMapping(
        local_code=local_code,
        version=(latest or 0) + 1,
        national_code=target.national_code,
        procedure_name=target.procedure_name,
        field_code=target.field_code,
        field_name=target.field_name,
        active=True,
        created_by=user,
        note=note,
    )
    session.add(row)
    session.flush()
    return ("created" if latest is None else "updated"), row


def _checked(local_code: str, national_code: str) -> tuple[str, str]:
    local, national = text(local_code), text(national_code)
    problems = []
    if local is None:
        problems.append(ErrorProblem("local_code", "thiếu mã thủ tục địa phương", "local code is empty"))
    if national is None:
        problems.append(ErrorProblem("national_code", "thiếu mã TTHC quốc gia", "national code is empty"))
    if local is None or national is None:
        raise ValidationFailed(problems)
    return local, national


def set_mapping(
    db: Database,
    local_code: str,
    national_code: str,
    *,
    procedure_name: str | None = None,
    field_code: str | None = None,
    field_name: str | None = None,
    user: str | None = None,
    note: str | None = None,
) -> MappingVersion:
    """Map ``local_code`` to ``national_code``; a change becomes a new active version, a repeat changes nothing."""
    local, national = _checked(local_code, national_code)
    target = NationalProcedure(
        national_code=national,
        field_code=text(field_code),
        field_name=name(field_name),
        procedure_name=name(procedure_name),
    )
    with db.session() as session:
        return _version(_put(session, local, target, user, note)[1])


def get(db: Database, local_code: str) -> MappingVersion | None:
    """The active mapping of ``local_code``, or None."""
    with db.session() as session:
        row = _active(session, local_code)
        return None if row is None else _version(row)


def history(db: Database, local_code: str) -> list[MappingVersion]:
    """Every version of ``local_code``'s mapping, oldest first."""
    with db.session() as session:
        rows = session.scalars(
            select(ProcedureMapping).where(ProcedureMapping.local_code == local_code).order_by(ProcedureMapping.version)
        ).all()
        return [_version(row) for row in rows]


def active_mappings(db: Database) -> dict[str, NationalProcedure]:
    """Every active mapping, by local code."""
    with db.session() as session:
        rows = session.scalars(select(ProcedureMapping).where(ProcedureMapping.active.is_(True))).all()
        return {row.local_code: _version(row).target for row in rows}


def import_csv(db: Database, source: Path | str, user: str | None = None) -> ImportCounts:
    """Import a mapping CSV (a path, or the CSV text itself) in one transaction; every bad line is reported.

    Rows identical to the active mapping are left alone, so importing the same file twice changes nothing.
    """
    content = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    rows, problems = parse_csv(content)
    if problems:
        raise ValidationFailed([ErrorProblem("csv", p, p) for p in problems])
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    note = "CSV import"
    with db.session() as session:
        for row in rows:
            counts[_put(session, row.local_code, row.target, user, note)[0]] += 1
    return ImportCounts(**counts)


def export_csv(db: Database) -> str:
    """Every active mapping as CSV text (the import format), sorted by local code."""
    return to_csv(sorted(active_mappings(db).items()))


class DbProcedureLookup:
    """A :class:`mappings.procedures.ProcedureLookup` for workers: the active mappings, cached in memory.

    Loaded on first use; ``refresh()`` reloads after an import or an edit. Safe to share between threads.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._table: dict[str, NationalProcedure] | None = None
        self._lock = threading.Lock()

    def __call__(self, local_code: str) -> NationalProcedure | None:
        table = self._table
        if table is None:
            table = self.refresh()
        return table.get(local_code)

    def refresh(self) -> dict[str, NationalProcedure]:
        """Reload every active mapping from the database."""
        with self._lock:
            table = active_mappings(self._db)
            self._table = table
            return table
