"""Retention of the integration log's attempts, per class of data, with an archive (Decree 13/2023 asks for a
defined retention of personal data).

The daily job, in order: seal every finished day into the chain (:mod:`hub.logchain`); empty the payloads with
personal data (``request``/``response``) of days older than their horizon; then the redacted payloads; then move
the attempts of days older than the metadata horizon to a compressed JSON-lines file, one per day, listed with its
chain head and checksum in ``manifest.json``. The chain stays verifiable throughout: rows keep their payload digests,
and an archived day is verified from its file.

On SQLite an archived day's rows are deleted there and then. On PostgreSQL ``attempts`` is partitioned by
Vietnam-time month (:mod:`hub.store.partitions`): the job first creates this month's partition and the next ones,
and an archived day's rows stay until their whole month is past the metadata horizon and archived; then the month's
partition is detached and dropped, which takes no time whatever its size, instead of deleting its rows. Attempt
metadata is so kept up to one month longer on PostgreSQL than the horizon says.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text, update

from foundation.clock import VN_TZ, utcnow
from foundation.logs import get_logger
from foundation.settings import Settings
from hub import logchain
from hub.store import partitions
from hub.store.db import Database
from hub.store.models import Attempt, AuditEntry, LogDay

# A day is sealed only when no attempt can still be written for it: a message runs at most ten minutes and the
# attempt writer is seconds late at most.
SEAL_GRACE = timedelta(hours=1)
MANIFEST = "manifest.json"

log = get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    """How many days each class of data is kept, and where archives go."""

    personal_days: int
    redacted_days: int
    metadata_days: int
    archive_dir: Path
    audit_days: int = field(default=5 * 365, kw_only=True)
    # each sealed day's signed head, one line a day; <archive_dir>/log-heads.jsonl when None
    anchor_file: Path | None = field(default=None, kw_only=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            settings.retention_personal_days,
            settings.retention_redacted_days,
            settings.retention_metadata_days,
            settings.archive_dir,
            anchor_file=settings.log_anchor_file,
            audit_days=settings.retention_audit_days,
        )

    @property
    def anchor(self) -> Path:
        return self.anchor_file or self.archive_dir / logchain.ANCHOR_FILE


@dataclass
class Report:
    sealed: list[date] = field(default_factory=list)
    personal_purged: list[date] = field(default_factory=list)
    redacted_purged: list[date] = field(default_factory=list)
    archived: list[date] = field(default_factory=list)
    months_created: list[date] = field(default_factory=list)  # partitions created ahead (PostgreSQL)
    months_dropped: list[date] = field(default_factory=list)  # archived months whose partition was dropped
    audit_deleted: int = 0  # audit entries past their horizon

    def __str__(self) -> str:
        return (
            f"niêm phong {len(self.sealed)} ngày, xoá dữ liệu cá nhân {len(self.personal_purged)} ngày, "
            f"xoá bản che {len(self.redacted_purged)} ngày, lưu trữ {len(self.archived)} ngày, "
            f"tạo {len(self.months_created)} và xoá {len(self.months_dropped)} phân vùng tháng, "
            f"xoá {self.audit_deleted} mục nhật ký thao tác "
            f"(sealed {len(self.sealed)}, personal payloads purged {len(self.personal_purged)}, "
            f"redacted payloads purged {len(self.redacted_purged)}, archived {len(self.archived)} days, "
            f"month partitions created {len(self.months_created)}, dropped {len(self.months_dropped)}, "
            f"audit entries deleted {self.audit_deleted})"
        )


def job(db: Database, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """The ``retain_log`` actor's work: :func:`run` at the tick the scheduler put in ``payload["now"]``."""
    report = run(db, Policy.from_settings(settings), now=datetime.fromisoformat(payload["now"]))
    return {"outcome": str(report)}


def run(db: Database, policy: Policy, *, now: datetime | None = None) -> Report:
    """Seal, purge and archive what is due at ``now``; safe to run again (each step skips days already done)."""
    now = now or utcnow()
    key = logchain.chain_key()  # before anything: without a key in production nothing is sealed, and the job says so
    report = Report()
    partitioned = _partitioned(db)
    if partitioned:
        report.months_created = create_months_ahead(db, now)
    for day in _unsealed_days(db, before=now - SEAL_GRACE):
        if logchain.seal(db, day, key=key, anchor=policy.anchor) is not None:
            report.sealed.append(day)
    today = logchain.day_of(now)
    report.personal_purged = _purge(db, today - timedelta(days=policy.personal_days), logchain.PERSONAL, now)
    report.redacted_purged = _purge(db, today - timedelta(days=policy.redacted_days), logchain.REDACTED, now)
    horizon = today - timedelta(days=policy.metadata_days)
    for sealed in _due(db, LogDay.archived_at, before=horizon):
        archive_day(db, sealed, policy.archive_dir, now)
        report.archived.append(sealed.day)
    if partitioned:
        report.months_dropped = drop_archived_months(db, before=horizon)
    with db.session() as session:  # refused sign-ins included: a flood of them must not grow the table for ever
        gone = session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=policy.audit_days)))
        report.audit_deleted = int(gone.rowcount)  # type: ignore[attr-defined]
    return report


def _partitioned(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


def create_months_ahead(db: Database, now: datetime, ahead: int = partitions.MONTHS_AHEAD) -> list[date]:
    """Create the partitions of this month and the ``ahead`` next ones that do not exist yet (PostgreSQL)."""
    this_month = partitions.month_of(now)
    with db.session() as session:
        have = set(partitions.existing(session.connection()))
    created = []
    for month in partitions.months(this_month, this_month, ahead=ahead):
        if month in have:
            continue
        with db.session() as session:
            moved = partitions.create(session.connection(), month)
        if moved:  # the job had not run for months, or rows came with a clock far off: they are in place now
            log.warning("attempt_partition_filled_from_default", month=month.isoformat(), rows=moved)
        created.append(month)
    return created


def drop_archived_months(db: Database, *, before: date) -> list[date]:
    """Detach and drop each month partition whose days are all before ``before`` and whose every row is in an
    archive file: each day with rows is archived with exactly the rows it was sealed with (PostgreSQL). A month with
    any other row (a day not archived, a row slipped in after sealing) is kept and logged."""
    with db.session() as session:
        months = partitions.existing(session.connection())
    dropped = []
    for month in months:
        if partitions.next_month(month) > before:
            break
        start, end = partitions.bounds(month)
        day = func.date(func.timezone(VN_TZ.key, Attempt.started_at))
        with db.session() as session:
            found = session.execute(
                select(day, func.count()).where(Attempt.started_at >= start, Attempt.started_at < end).group_by(day)
            ).all()
            archived = {
                sealed.day: sealed.rows
                for sealed in session.scalars(
                    select(LogDay).where(
                        LogDay.day >= month, LogDay.day < partitions.next_month(month), LogDay.archived_at.is_not(None)
                    )
                )
            }
            unarchived = sorted(d.isoformat() for d, count in found if archived.get(d) != count)
            if unarchived:
                log.warning("attempt_month_not_dropped", month=month.isoformat(), days=unarchived)
                continue
            table = partitions.name(month)
            session.execute(text(f"ALTER TABLE attempts DETACH PARTITION {table}"))
            session.execute(text(f"DROP TABLE {table}"))
        dropped.append(month)
    return dropped


def _unsealed_days(db: Database, *, before: datetime) -> Iterator[date]:
    with db.session() as session:
        first = session.execute(
            select(func.min(Attempt.started_at)).where(Attempt.chain_hash.is_(None), Attempt.started_at < before)
        ).scalar_one()
    if first is None:
        return
    day = logchain.day_of(first)
    while logchain.day_bounds(day)[1] <= before:
        yield day
        day += timedelta(days=1)


def _due(db: Database, done: Any, *, before: date) -> list[LogDay]:
    with db.session() as session:
        return list(session.scalars(select(LogDay).where(done.is_(None), LogDay.day < before).order_by(LogDay.day)))


def _purge(db: Database, before: date, columns: tuple[str, ...], now: datetime) -> list[date]:
    marker = LogDay.personal_purged_at if columns == logchain.PERSONAL else LogDay.redacted_purged_at
    days = []
    for sealed in _due(db, marker, before=before):
        start, end = logchain.day_bounds(sealed.day)
        with db.session() as session:
            session.execute(
                update(Attempt)
                .where(Attempt.started_at >= start, Attempt.started_at < end)
                .values(dict.fromkeys(columns))
            )
            session.execute(update(LogDay).where(LogDay.day == sealed.day).values({marker.key: now}))
        days.append(sealed.day)
    return days


def _archive_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def _restore_row(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("started_at", "finished_at"):
        if row[key] is not None:
            row[key] = datetime.fromisoformat(row[key])
    return row


def archive_day(db: Database, sealed: LogDay, archive_dir: Path, now: datetime) -> Path:
    """Write a sealed day's attempts to ``attempts-<day>.jsonl.gz``, list it in the manifest, then delete them (on
    PostgreSQL only those the default partition holds: the others go with their month's partition)."""
    partitioned = _partitioned(db)
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"attempts-{sealed.day.isoformat()}.jsonl.gz"
    start, end = logchain.day_bounds(sealed.day)
    with gzip.open(path, "wt", encoding="utf-8") as out, db.session() as session:
        query = select(Attempt).where(Attempt.started_at >= start, Attempt.started_at < end).order_by(Attempt.id)
        for attempt in session.scalars(query.execution_options(yield_per=logchain.BATCH)):
            out.write(json.dumps(_archive_row(logchain.row_dict(attempt)), ensure_ascii=False) + "\n")
    manifest_path = archive_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {"days": {}}
    manifest["days"][sealed.day.isoformat()] = {
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": sealed.rows,
        "previous_head": sealed.previous_head,
        "head": sealed.head,
        "personal_purged": sealed.personal_purged_at is not None,
        "redacted_purged": sealed.redacted_purged_at is not None,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    with db.session() as session:
        if partitioned:  # the month's partition goes whole later; a row the default partition took goes now
            session.execute(
                text(f"DELETE FROM {partitions.DEFAULT} WHERE started_at >= :start AND started_at < :end"),  # noqa: S608 - a constant
                {"start": start, "end": end},
            )
        else:
            session.execute(delete(Attempt).where(Attempt.started_at >= start, Attempt.started_at < end))
        session.execute(update(LogDay).where(LogDay.day == sealed.day).values(archived_at=now, archive_file=str(path)))
    return path


def verify_day(db: Database, day: date, *, key: bytes | None = None) -> logchain.DayVerdict:
    """Verify a day wherever it is now: in the database, or in its archive file. Whatever is wrong comes back as a
    named error in the verdict (:mod:`hub.logchain`), never raised."""
    key = logchain.chain_key() if key is None else key
    with db.session() as session:
        sealed = session.get(LogDay, day)
    if sealed is None or sealed.archive_file is None:
        return logchain.verify(db, day, key=key)
    path = Path(sealed.archive_file)
    try:
        manifest = json.loads((path.parent / MANIFEST).read_text(encoding="utf-8"))["days"][day.isoformat()]
        content = path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        missing = logchain.ArchiveMissing(f"{path.name} hoặc {MANIFEST}: {type(exc).__name__}", day=day)
        return logchain.DayVerdict(day, 0, sealed.head, "", missing)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows = [_restore_row(json.loads(line)) for line in lines]
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        cut = logchain.ArchiveCut(f"{path.name} không đọc hết được ({type(exc).__name__})", day=day)
        return logchain.DayVerdict(day, 0, sealed.head, "", cut)
    verdict = logchain.verify_rows(
        rows,
        sealed,
        key=key,
        personal_purged=sealed.personal_purged_at is not None,
        redacted_purged=sealed.redacted_purged_at is not None,
        archived=True,
    )
    if verdict.ok and hashlib.sha256(content).hexdigest() != manifest.get("sha256"):
        changed = logchain.ArchiveCut(f"{path.name} không phải tệp đã lưu (not the file archived)", day=day)
        return logchain.DayVerdict(day, verdict.rows, sealed.head, verdict.computed, changed)
    return verdict


def verify_all(db: Database, *, key: bytes | None = None, anchor: Path | None = None) -> list[logchain.LogTampered]:
    """Walk every sealed day from the first: each day's rows (or archive) against its signed seal, each seal's link
    to the day before, and every day the anchor file lists. Returns what was found, in day order."""
    key = logchain.chain_key() if key is None else key
    with db.session() as session:
        sealed = list(session.scalars(select(LogDay).order_by(LogDay.day)))
    found = list(logchain.links(sealed))
    for day in sealed:
        verdict = verify_day(db, day.day, key=key)
        if verdict.mismatch is not None:
            found.append(verdict.mismatch)
    found += logchain.anchored(logchain.anchor_path() if anchor is None else anchor, {d.day: d for d in sealed})
    return sorted(found, key=lambda error: error.day)
