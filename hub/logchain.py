"""The tamper-evident integration log: each day's attempts chained by hash, the day's head recorded and verifiable.

Sealing never touches traffic: attempt rows are written as they always were, and a day is sealed once it is over
(the daily retention job): its rows, in id order, each get ``chain_hash = sha256(previous hash, the row's
metadata, the digests of its payloads)``, and the day's head (the last hash) goes to ``log_days``. The first day's
chain starts from a fixed genesis, every later day's from the head sealed before it, so a day deleted whole shows
too. Payload digests are kept on the row, so the chain stays verifiable after retention has purged the payloads
with personal data and after a day has been moved to an archive file (:func:`verify_rows` reads either).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from foundation.clock import VN_TZ, utcnow
from hub.store.db import Database
from hub.store.models import Attempt, LogDay

GENESIS = hashlib.sha256(b"dvc-hub integration log").hexdigest()
BATCH = 1000
METADATA = (
    "id", "message_id", "number", "outcome", "started_at", "finished_at", "duration_ms", "worker", "error_class",
    "error_message", "remote_message", "retry_delay_ms",
)  # fmt: skip
PERSONAL = ("request", "response")
REDACTED = ("request_redacted", "response_redacted")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Vietnam-time day as a UTC half-open interval of ``started_at``."""
    start = datetime.combine(day, time(0), tzinfo=VN_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)


def day_of(moment: datetime) -> date:
    return moment.astimezone(VN_TZ).date()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso).encode()


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def digest(row: dict[str, Any], columns: tuple[str, ...]) -> str:
    """The digest of some payload columns of a row (kept on the row, so it outlives the payloads)."""
    return hashlib.sha256(_canonical([row.get(c) for c in columns])).hexdigest()


def link(previous: str, row: dict[str, Any]) -> str:
    """The chain hash of a row: the previous hash, the row's metadata and its two stored payload digests."""
    body = _canonical([previous, [row.get(c) for c in METADATA], row["personal_digest"], row["redacted_digest"]])
    return hashlib.sha256(body).hexdigest()


def row_dict(attempt: Attempt) -> dict[str, Any]:
    columns = (*METADATA, *PERSONAL, *REDACTED, "personal_digest", "redacted_digest", "chain_hash")
    return {c: getattr(attempt, c) for c in columns}


@dataclass(frozen=True)
class Mismatch:
    """The first row of a day that does not match its chain, and why."""

    attempt_id: int | None
    reason: str


@dataclass(frozen=True)
class DayVerdict:
    day: date
    rows: int
    head: str | None  # as recorded when sealed; None if the day was never sealed
    computed: str
    mismatch: Mismatch | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def verify_rows(
    rows: Iterable[dict[str, Any]], sealed: LogDay, *, personal_purged: bool, redacted_purged: bool
) -> DayVerdict:
    """Recompute a sealed day's chain over its rows (from the database or an archive) and find the first mismatch."""
    previous, count, first_bad = sealed.previous_head, 0, None
    for row in rows:
        count += 1
        if first_bad is None:
            first_bad = _check(row, previous, personal_purged=personal_purged, redacted_purged=redacted_purged)
        previous = link(previous, row) if row["chain_hash"] is not None else previous
    if first_bad is None and (count != sealed.rows or previous != sealed.head):
        first_bad = Mismatch(None, f"rows removed: {count} found, {sealed.rows} sealed / thiếu bản ghi")
    return DayVerdict(sealed.day, count, sealed.head, previous, first_bad)


def _check(row: dict[str, Any], previous: str, *, personal_purged: bool, redacted_purged: bool) -> Mismatch | None:
    attempt_id = int(row["id"])
    if row["chain_hash"] is None:
        return Mismatch(attempt_id, "row added after the day was sealed / bản ghi thêm sau khi niêm phong")
    for columns, stored, purged in (
        (PERSONAL, row["personal_digest"], personal_purged),
        (REDACTED, row["redacted_digest"], redacted_purged),
    ):
        emptied = all(row.get(c) is None for c in columns)
        if not (purged and emptied) and digest(row, columns) != stored:
            return Mismatch(attempt_id, f"{'/'.join(columns)} changed / nội dung gửi nhận bị sửa")
    if link(previous, row) != row["chain_hash"]:
        return Mismatch(attempt_id, "row changed / bản ghi bị sửa")
    return None


def _stream(db: Database, day: date) -> Iterator[Attempt]:
    start, end = day_bounds(day)
    with db.session() as session:
        query = select(Attempt).where(Attempt.started_at >= start, Attempt.started_at < end).order_by(Attempt.id)
        yield from session.scalars(query.execution_options(yield_per=BATCH))


def seal(db: Database, day: date) -> LogDay | None:
    """Chain a finished day's attempts and record its head; None when the day has no attempts or is sealed already."""
    with db.session() as session:
        if session.get(LogDay, day) is not None:
            return None
        before = session.scalars(select(LogDay).where(LogDay.day < day).order_by(LogDay.day.desc()).limit(1)).first()
    previous = before.head if before is not None else GENESIS
    head, count, pending = previous, 0, []
    for attempt in _stream(db, day):
        row = row_dict(attempt)
        row["personal_digest"] = digest(row, PERSONAL)
        row["redacted_digest"] = digest(row, REDACTED)
        head = link(head, row)
        count += 1
        pending.append({"id": row["id"], "personal_digest": row["personal_digest"],
                        "redacted_digest": row["redacted_digest"], "chain_hash": head})  # fmt: skip
        if len(pending) >= BATCH:
            _write(db, pending)
            pending = []
    if not count:
        return None
    _write(db, pending)
    sealed = LogDay(day=day, rows=count, previous_head=previous, head=head, sealed_at=utcnow())
    with db.session() as session:
        session.add(sealed)
    return sealed


def _write(db: Database, rows: list[dict[str, Any]]) -> None:
    if rows:
        with db.session() as session:
            session.execute(update(Attempt), rows)


def verify(db: Database, day: date) -> DayVerdict:
    """Verify a day kept in the database (see :mod:`hub.store.retention` for archived days)."""
    with db.session() as session:
        sealed = session.get(LogDay, day)
    if sealed is None:
        rows = sum(1 for _ in _stream(db, day))
        return DayVerdict(day, rows, None, "", Mismatch(None, "day not sealed yet / ngày chưa được niêm phong"))
    return verify_rows(
        (row_dict(a) for a in _stream(db, day)),
        sealed,
        personal_purged=sealed.personal_purged_at is not None,
        redacted_purged=sealed.redacted_purged_at is not None,
    )
