"""Issue 27, DoD 4: ``dvc-hub logs verify`` walks every sealed day and names each way the log can be tampered with.

Six days of attempts are sealed with a key kept in a file outside the database, the two oldest archived. Then an
attacker who can write the database and the archive folder, but not read the key, tampers in one way per case: an
edit with the chain recomputed, a row slipped in, a row deleted, the newest rows cut (with the head moved back or
not), a day deleted whole (in the middle, or the newest one), an archive or its manifest deleted, an archive cut
short with its manifest fixed. Each is named by its own error, and nothing crashes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update
from typer.testing import CliRunner

from cli.main import app
from foundation.clock import VN_TZ
from foundation.settings import get_settings
from hub import logchain, retention
from hub.store.db import Database
from hub.store.models import Attempt, LogDay, Message
from migrations import upgrade
from tests.hub.factories import write_attempts

DAYS = [date(2024, 6, 10) + timedelta(days=n) for n in range(6)]  # 10 .. 15 June
NOW = datetime(2024, 6, 16, 9, 0, tzinfo=VN_TZ).astimezone(UTC)
PER_DAY = 5
ARCHIVED = DAYS[0]  # 10 and 11 June are past the metadata horizon: in archive files
ATTACKER_KEY = b"what the attacker guesses the key is"


@dataclass
class Log:
    db: Database
    archive: Path

    def ids(self, day: date) -> list[int]:
        start, end = logchain.day_bounds(day)
        with self.db.session() as session:
            query = select(Attempt.id).where(Attempt.started_at >= start, Attempt.started_at < end)
            return list(session.scalars(query.order_by(Attempt.id)))

    def verify(self) -> tuple[int, str]:
        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["logs", "verify"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # no crash
        return result.exit_code, result.output

    def archive_rows(self, day: date) -> list[dict[str, object]]:
        with gzip.open(self.archive / f"attempts-{day.isoformat()}.jsonl.gz", "rt", encoding="utf-8") as lines:
            return [json.loads(line) for line in lines]


@pytest.fixture
def log(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Log]:
    key = tmp_path / "secrets" / "log-chain-key"
    key.parent.mkdir()
    key.write_bytes(b"a key the database never holds, 32+ bytes long")
    archive = tmp_path / "archive"
    for name, value in {"DATABASE_URL": sqlite_url, "LOG_CHAIN_KEY_FILE": key, "ARCHIVE_DIR": archive}.items():
        monkeypatch.setenv(f"DVC_HUB_{name}", str(value))
    get_settings.cache_clear()
    upgrade(sqlite_url)
    db = Database(sqlite_url)
    write_attempts(db, DAYS, per_day=PER_DAY)
    policy = retention.Policy(personal_days=2, redacted_days=3, metadata_days=4, archive_dir=archive)
    report = retention.run(db, policy, now=NOW)
    assert report.sealed == DAYS and report.archived == DAYS[:2]
    yield Log(db, archive)
    db.dispose()


def _rechain(log: Log, day: date) -> None:
    """What an attacker does after an edit: recompute the day's chain and seal, with the key they can guess."""
    with log.db.session() as session:
        sealed = session.get(LogDay, day)
        assert sealed is not None
        start, end = logchain.day_bounds(day)
        head = sealed.previous_head
        for attempt in session.scalars(select(Attempt).where(Attempt.started_at >= start, Attempt.started_at < end)):
            row = logchain.row_dict(attempt)
            attempt.row_mac = logchain.row_mac(ATTACKER_KEY, row)
            attempt.chain_hash = head = logchain.link(ATTACKER_KEY, head, row)
        sealed.head = head
        sealed.seal_mac = logchain.seal_mac(ATTACKER_KEY, day, sealed.rows, sealed.previous_head, head)


def edit_and_recompute(log: Log) -> None:
    victim = log.ids(DAYS[3])[2]
    with log.db.session() as session:
        session.execute(update(Attempt).where(Attempt.id == victim).values(outcome="parked", error_message="sửa"))
    _rechain(log, DAYS[3])


def insert_a_row(log: Log) -> None:
    with log.db.session() as session:
        message_id = session.execute(select(func.min(Message.id))).scalar_one()
        at = logchain.day_bounds(DAYS[3])[0] + timedelta(minutes=90)
        forged = {"chain_hash": "0" * 64, "row_mac": "1" * 64, "personal_digest": "2" * 64, "redacted_digest": "3" * 64}
        session.execute(insert(Attempt).values(message_id=message_id, number=9, outcome="succeeded", started_at=at))
        last = session.execute(select(func.max(Attempt.id))).scalar_one()
        session.execute(update(Attempt).where(Attempt.id == last).values(forged))


def delete_a_row(log: Log) -> None:
    with log.db.session() as session:
        session.execute(delete(Attempt).where(Attempt.id == log.ids(DAYS[3])[2]))


def cut_the_newest_rows(log: Log) -> None:
    with log.db.session() as session:
        session.execute(delete(Attempt).where(Attempt.id.in_(log.ids(DAYS[-1])[-2:])))


def cut_the_newest_rows_and_move_the_head_back(log: Log) -> None:
    cut_the_newest_rows(log)
    kept = log.ids(DAYS[-1])
    with log.db.session() as session:
        head = session.scalars(select(Attempt.chain_hash).where(Attempt.id == kept[-1])).one()
        session.execute(update(LogDay).where(LogDay.day == DAYS[-1]).values(head=head, rows=len(kept)))


def _delete_day(log: Log, day: date) -> None:
    with log.db.session() as session:
        session.execute(delete(Attempt).where(Attempt.id.in_(log.ids(day))))
        session.execute(delete(LogDay).where(LogDay.day == day))


def delete_a_day(log: Log) -> None:
    _delete_day(log, DAYS[3])


def delete_the_newest_day(log: Log) -> None:
    _delete_day(log, DAYS[-1])


def delete_an_archive(log: Log) -> None:
    (log.archive / f"attempts-{ARCHIVED.isoformat()}.jsonl.gz").unlink()


def delete_the_manifest(log: Log) -> None:
    (log.archive / retention.MANIFEST).unlink()


def cut_an_archive_and_fix_its_manifest(log: Log) -> None:
    path = log.archive / f"attempts-{ARCHIVED.isoformat()}.jsonl.gz"
    rows = log.archive_rows(ARCHIVED)[:-2]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)
    manifest = json.loads((log.archive / retention.MANIFEST).read_text(encoding="utf-8"))
    entry = manifest["days"][ARCHIVED.isoformat()]
    entry.update(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), rows=len(rows), head=rows[-1]["chain_hash"])
    (log.archive / retention.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def cut_an_archives_bytes(log: Log) -> None:
    path = log.archive / f"attempts-{ARCHIVED.isoformat()}.jsonl.gz"
    path.write_bytes(path.read_bytes()[:-40])


TAMPERING: dict[str, tuple[Callable[[Log], None], str, date]] = {
    "edit and recompute": (edit_and_recompute, "RowEdited", DAYS[3]),
    "insert a row": (insert_a_row, "RowInserted", DAYS[3]),
    "delete a row": (delete_a_row, "RowsDeleted", DAYS[3]),
    "cut the newest rows": (cut_the_newest_rows, "RowsTruncated", DAYS[-1]),
    "and move the head back": (cut_the_newest_rows_and_move_the_head_back, "RowsTruncated", DAYS[-1]),
    "delete a day": (delete_a_day, "DayMissing", DAYS[4]),
    "delete the newest day": (delete_the_newest_day, "DayMissing", DAYS[-1]),
    "delete an archive": (delete_an_archive, "ArchiveMissing", ARCHIVED),
    "delete the manifest": (delete_the_manifest, "ArchiveMissing", ARCHIVED),
    "cut an archive, fix its manifest": (cut_an_archive_and_fix_its_manifest, "ArchiveCut", ARCHIVED),
    "cut an archive's bytes": (cut_an_archives_bytes, "ArchiveCut", ARCHIVED),
}


def test_an_untouched_log_verifies_every_day(log: Log) -> None:
    code, output = log.verify()
    assert code == 0, output
    assert output.count("✓") == len(DAYS)


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_verify_names_each_way_of_tampering(log: Log, case: str) -> None:
    tamper, name, day = TAMPERING[case]
    tamper(log)
    code, output = log.verify()
    assert code == 1, output
    flat = " ".join(output.split())  # rich wraps long lines
    assert f"✗ {day.isoformat()} {name}" in flat, flat
