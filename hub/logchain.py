"""The tamper-evident integration log: each day's attempts chained by keyed hash, each day's head linked to the day
before and signed, and a walk over every sealed day that names what was done to the log.

Sealing never touches traffic: attempt rows are written as they always were, and a day is sealed once it is over
(the daily retention job). Each row, in id order, gets ``row_mac`` (an HMAC of its metadata and payload digests)
and ``chain_hash`` (an HMAC of the previous hash and the row); the day's head, its row count and the head of the
day sealed before go to ``log_days`` with ``seal_mac``, an HMAC of the three, and to the anchor file
(``log-heads.jsonl``, one line a day, for the operator to keep). The key is read from a file outside the database
(:func:`chain_key`): whoever can write the database but not read the key cannot recompute a row, a chain or a seal.

Payload digests are kept on the row, so the chain stays verifiable after retention has purged the payloads with
personal data and after a day has been moved to an archive file (:func:`verify_rows` reads either). What
:func:`verify_all` finds is one of the named errors below, never an exception out of it.

    LogTampered (PermanentError)
    ├── RowEdited        a sealed row's content or payloads are not what was sealed
    ├── RowInserted      a row that was never sealed sits in a sealed day
    ├── RowsDeleted      rows are missing inside a day (the next row no longer links to the one before)
    ├── RowsTruncated    a day's newest rows are missing (and the head may have been moved back to match)
    ├── SealForged       a day's seal (head, row count, link to the day before) is not the one signed
    ├── DayMissing       a sealed day is gone: the next day links to a head nobody has, or the anchor lists it
    ├── DayNotSealed     a finished day that was asked for has no seal
    ├── ArchiveMissing   an archived day's file or its manifest entry is gone
    └── ArchiveCut       an archived day's file is cut short, unreadable or not the file archived
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from foundation.clock import VN_TZ, utcnow
from foundation.errors import ConfigurationError, PermanentError
from foundation.settings import Environment, Settings, get_settings
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
KEY_FILE = "log-chain-key"  # in the secrets directory, when no key file is named
ANCHOR_FILE = "log-heads.jsonl"
MIN_KEY_BYTES = 16
# Only where no one needs the log to stand as evidence: production refuses to seal without a key of its own.
DEVELOPMENT_KEY = b"dvc-hub development log chain key: not a secret"


# --- the named errors -----------------------------------------------------------------------------------------


class LogTampered(PermanentError):
    """Raised (or reported by :func:`verify_all`) when the integration log is not what was sealed."""

    error_class = "log_tampered"

    def __init__(self, message: str, *, day: date, attempt_id: int | None = None) -> None:
        super().__init__(message)
        self.day = day
        self.attempt_id = attempt_id

    @property
    def name(self) -> str:
        return type(self).__name__


class RowEdited(LogTampered):
    """Reported when a sealed row's metadata or payloads differ from what its row MAC covers."""

    error_class = "log_row_edited"


class RowInserted(LogTampered):
    """Reported when a row that was never sealed (no or a forged MAC) sits among a sealed day's rows."""

    error_class = "log_row_inserted"


class RowsDeleted(LogTampered):
    """Reported when an intact row no longer links to the row before it: rows between were deleted."""

    error_class = "log_rows_deleted"


class RowsTruncated(LogTampered):
    """Reported when a day's newest rows are missing, whether or not its head was moved back to match."""

    error_class = "log_rows_truncated"


class SealForged(LogTampered):
    """Reported when a day's seal (head, rows, previous head) does not carry the MAC the key gives it."""

    error_class = "log_seal_forged"


class DayMissing(LogTampered):
    """Reported when a sealed day is gone: the next day links to an unknown head, or the anchor file lists it."""

    error_class = "log_day_missing"


class DayNotSealed(LogTampered):
    """Reported when a day asked for has attempts but no seal."""

    error_class = "log_day_not_sealed"


class ArchiveMissing(LogTampered):
    """Reported when an archived day's file, the manifest or the day's entry in it is gone."""

    error_class = "log_archive_missing"


class ArchiveCut(LogTampered):
    """Reported when an archived day's file is cut short, cannot be read, or is not the file that was archived."""

    error_class = "log_archive_cut"


# --- the key --------------------------------------------------------------------------------------------------


def chain_key(settings: Settings | None = None) -> bytes:
    """The HMAC key, from ``log_chain_key_file`` or ``<secrets_dir>/log-chain-key``: never from the database. A
    development setup without one gets a fixed key; production gets a ConfigurationError."""
    settings = settings or get_settings()
    path = settings.log_chain_key_file
    if path is None and settings.secrets_dir is not None:
        path = settings.secrets_dir / KEY_FILE
    if path is not None and path.is_file():
        key = path.read_bytes().strip()
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"Khoá chuỗi nhật ký {path} quá ngắn, cần ít nhất {MIN_KEY_BYTES} byte "
                f"(the log chain key file is shorter than {MIN_KEY_BYTES} bytes)"
            )
        return key
    if settings.environment is Environment.PRODUCTION:
        raise ConfigurationError(
            "Chưa có khoá chuỗi nhật ký: đặt DVC_HUB_LOG_CHAIN_KEY_FILE, ví dụ tạo bằng "
            "`head -c 32 /dev/urandom | base64 > /etc/dvc-hub/log-chain-key` "
            "(no log chain key: set DVC_HUB_LOG_CHAIN_KEY_FILE to a file outside the database)"
        )
    return DEVELOPMENT_KEY


def anchor_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.log_anchor_file or settings.archive_dir / ANCHOR_FILE


# --- hashing --------------------------------------------------------------------------------------------------


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
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def _mac(key: bytes, value: Any) -> str:
    return hmac.new(key, _canonical(value), hashlib.sha256).hexdigest()


def digest(row: dict[str, Any], columns: tuple[str, ...]) -> str:
    """The digest of some payload columns of a row (kept on the row, so it outlives the payloads)."""
    return hashlib.sha256(_canonical([row.get(c) for c in columns])).hexdigest()


def _body(row: dict[str, Any]) -> list[Any]:
    return [[row.get(c) for c in METADATA], row["personal_digest"], row["redacted_digest"]]


def row_mac(key: bytes, row: dict[str, Any]) -> str:
    """The MAC of one row on its own: tells an edited row from one whose neighbour was deleted."""
    return _mac(key, ["row", *_body(row)])


def link(key: bytes, previous: str, row: dict[str, Any]) -> str:
    """The chain hash of a row: a MAC of the previous hash, the row's metadata and its two payload digests."""
    return _mac(key, ["link", previous, *_body(row)])


def seal_mac(key: bytes, day: date, rows: int, previous_head: str, head: str) -> str:
    """The MAC of a day's seal: its head, its row count and the head of the day sealed before it."""
    return _mac(key, ["seal", day, rows, previous_head, head])


def _same(stored: str | None, computed: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, computed)


def row_dict(attempt: Attempt) -> dict[str, Any]:
    columns = (*METADATA, *PERSONAL, *REDACTED, "personal_digest", "redacted_digest", "row_mac", "chain_hash")
    return {c: getattr(attempt, c) for c in columns}


# --- sealing --------------------------------------------------------------------------------------------------


def _stream(db: Database, day: date) -> Generator[Attempt]:
    start, end = day_bounds(day)
    with db.session() as session:
        query = select(Attempt).where(Attempt.started_at >= start, Attempt.started_at < end).order_by(Attempt.id)
        result = session.scalars(query.execution_options(yield_per=BATCH))
        try:
            yield from result
        finally:
            result.close()


def seal(db: Database, day: date, *, key: bytes | None = None, anchor: Path | None = None) -> LogDay | None:
    """Chain a finished day's attempts, record its signed head and append it to the ``anchor`` file (retention's
    job names it); None when the day has no attempts or is sealed already."""
    key = chain_key() if key is None else key
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
        head = link(key, head, row)
        count += 1
        pending.append({"id": row["id"], "personal_digest": row["personal_digest"], "chain_hash": head,
                        "redacted_digest": row["redacted_digest"], "row_mac": row_mac(key, row)})  # fmt: skip
        if len(pending) >= BATCH:
            _write(db, pending)
            pending = []
    if not count:
        return None
    _write(db, pending)
    mac = seal_mac(key, day, count, previous, head)
    sealed = LogDay(day=day, rows=count, previous_head=previous, head=head, seal_mac=mac, sealed_at=utcnow())
    with db.session() as session:
        session.add(sealed)
    if anchor is None:
        return sealed
    anchor.parent.mkdir(parents=True, exist_ok=True)
    with anchor.open("a", encoding="utf-8") as out:
        line = {"day": day.isoformat(), "rows": count, "previous_head": previous, "head": head, "seal_mac": mac}
        out.write(json.dumps(line, sort_keys=True) + "\n")
    return sealed


def _write(db: Database, rows: list[dict[str, Any]]) -> None:
    if rows:
        with db.session() as session:
            session.execute(update(Attempt), rows)


# --- verifying ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayVerdict:
    day: date
    rows: int
    head: str | None  # as recorded when sealed; None if the day was never sealed
    computed: str
    mismatch: LogTampered | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def verify_rows(
    rows: Iterable[dict[str, Any]],
    sealed: LogDay,
    *,
    key: bytes,
    personal_purged: bool,
    redacted_purged: bool,
    archived: bool = False,
) -> DayVerdict:
    """Recompute a sealed day's chain over its rows (from the database or an archive) and name the first thing
    that is not as sealed."""
    day, previous, count = sealed.day, sealed.previous_head, 0
    found: LogTampered | None = None
    pending = iter(rows)
    row = next(pending, None)
    while row is not None and found is None:
        following = next(pending, None)
        attempt_id = int(row["id"])
        if row.get("chain_hash") is None:
            found = RowInserted("thêm sau khi niêm phong (added after the day was sealed)", day=day,
                                attempt_id=attempt_id)  # fmt: skip
        elif not _same(row.get("row_mac"), row_mac(key, row)):
            # a forged row, not an edited one, if the chain goes on without it: the next row links to the one
            # before, or the day's sealed head was already reached
            extra = (following is not None and _same(following.get("chain_hash"), link(key, previous, following))) or (
                following is None and count == sealed.rows and previous == sealed.head
            )
            if extra:
                found = RowInserted(
                    "không thuộc chuỗi đã niêm phong (not a sealed row)", day=day, attempt_id=attempt_id
                )
            else:
                found = RowEdited("bản ghi bị sửa (row changed)", day=day, attempt_id=attempt_id)
        elif not _payloads_match(row, personal_purged=personal_purged, redacted_purged=redacted_purged):
            found = RowEdited("nội dung gửi nhận bị sửa (payloads changed)", day=day, attempt_id=attempt_id)
        elif not _same(row.get("chain_hash"), link(key, previous, row)):
            found = RowsDeleted("bản ghi trước bản này bị xoá (rows deleted before this one)", day=day,
                                attempt_id=attempt_id)  # fmt: skip
        else:
            previous, count = row["chain_hash"], count + 1
        row = following
    cut: type[LogTampered] = ArchiveCut if archived else RowsTruncated
    if found is None and (count < sealed.rows or previous != sealed.head):
        found = cut(f"thiếu {sealed.rows - count} bản ghi cuối ngày ({count} found, {sealed.rows} sealed)", day=day)
    elif found is None and not _same(sealed.seal_mac, seal_mac(key, day, count, sealed.previous_head, previous)):
        if count and sealed.seal_mac is not None:  # rows that agree with a rewritten seal: its head was moved back
            found = cut(f"đầu chuỗi bị lùi về bản ghi {count} (the head was moved back to row {count})", day=day)
        else:
            found = SealForged("niêm phong ngày không đúng khoá (the day's seal does not match the key)", day=day)
    if found is not None and archived:
        found.message = f"{found.message} — tệp lưu trữ (in the archive)"
    return DayVerdict(day, count, sealed.head, previous, found)


def _payloads_match(row: dict[str, Any], *, personal_purged: bool, redacted_purged: bool) -> bool:
    for columns, purged in ((PERSONAL, personal_purged), (REDACTED, redacted_purged)):
        stored = row.get("personal_digest" if columns == PERSONAL else "redacted_digest")
        emptied = all(row.get(c) is None for c in columns)
        if not (purged and emptied) and digest(row, columns) != stored:
            return False
    return True


def verify(db: Database, day: date, *, key: bytes | None = None) -> DayVerdict:
    """Verify a day kept in the database (see :mod:`hub.retention` for archived days)."""
    with db.session() as session:
        sealed = session.get(LogDay, day)
    if sealed is None:
        rows = sum(1 for _ in _stream(db, day))
        return DayVerdict(day, rows, None, "", DayNotSealed("ngày chưa được niêm phong (day not sealed)", day=day))
    stream = _stream(db, day)
    try:
        return verify_rows(
            (row_dict(a) for a in stream),
            sealed,
            key=chain_key() if key is None else key,
            personal_purged=sealed.personal_purged_at is not None,
            redacted_purged=sealed.redacted_purged_at is not None,
        )
    finally:  # the walk stops at the first finding: the server-side cursor is closed now, not by the collector
        stream.close()


def links(sealed_days: list[LogDay]) -> Iterator[LogTampered]:
    """Each sealed day must start from the head of the day sealed before it (the first from the genesis): a day
    deleted whole, seal and all, leaves the next one pointing at a head nobody has."""
    previous = GENESIS
    for sealed in sealed_days:
        if sealed.previous_head != previous:
            yield DayMissing(
                "ngày niêm phong trước đó đã mất (the day sealed before this one is gone: its head is unknown)",
                day=sealed.day,
            )
        previous = sealed.head


def anchored(path: Path, sealed_days: dict[date, LogDay]) -> Iterator[LogTampered]:
    """Every day the anchor file lists must still be sealed, with the same head."""
    if not path.is_file():
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
            day = date.fromisoformat(entry["day"])
        except (ValueError, KeyError, TypeError):
            yield SealForged(f"{path.name} dòng {number} không đọc được (line {number} unreadable)", day=date.min)
            continue
        sealed = sealed_days.get(day)
        if sealed is None:
            yield DayMissing(f"{path.name} có ngày này, cơ sở dữ liệu không còn (anchored, not in the log)", day=day)
        elif sealed.head != entry.get("head") or sealed.rows != entry.get("rows"):
            yield SealForged(f"khác với {path.name} (the seal differs from the anchor file's)", day=day)
