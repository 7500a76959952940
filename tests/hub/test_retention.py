"""Retention and the tamper-evident chain: attempts sealed per day, payloads purged by class, old days archived with
a manifest, and ``dvc-hub logs verify`` naming the first row someone edited — in the database or in an archive."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
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
from hub.store.models import Attempt, AuditEntry, LogDay, Message
from migrations import upgrade
from tests.hub.factories import write_attempts

NOW = datetime(2024, 6, 20, 9, 0, tzinfo=VN_TZ)
DAYS = [date(2024, 6, 10) + timedelta(days=n) for n in range(9)]  # 10 .. 18 June, all finished by NOW
PER_DAY = 7
POLICY_DAYS = {"personal_days": 7, "redacted_days": 8, "metadata_days": 9}


@pytest.fixture
def store(any_db_url: str) -> Iterator[Database]:
    upgrade(any_db_url)
    database = Database(any_db_url)
    yield database
    database.dispose()


def _policy(tmp_path: Path) -> retention.Policy:
    days = POLICY_DAYS
    archive = tmp_path / "archive"
    return retention.Policy(days["personal_days"], days["redacted_days"], days["metadata_days"], archive)


@pytest.fixture(autouse=True)
def archive_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the anchor file beside the archive the policy writes, not the project's own."""
    monkeypatch.setenv("DVC_HUB_ARCHIVE_DIR", str(tmp_path / "archive"))


def _verify(db: Database, monkeypatch: pytest.MonkeyPatch, *days: date) -> tuple[int, str]:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    get_settings.cache_clear()  # read since the test began (the chain's key), before the database was named
    args = ["logs", "verify", *(a for d in days for a in ("--day", d.isoformat()))]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def _attempt_ids(db: Database, day: date) -> list[int]:
    start, end = logchain.day_bounds(day)
    with db.session() as session:
        query = select(Attempt.id).where(Attempt.started_at >= start, Attempt.started_at < end).order_by(Attempt.id)
        return list(session.scalars(query))


def test_retention_archives_purges_and_keeps_the_chain_verifiable(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given nine days of attempts with personal data in their payloads
    write_attempts(store, DAYS, per_day=PER_DAY)

    # When retention runs with short horizons
    report = retention.run(store, _policy(tmp_path), now=NOW.astimezone(UTC))

    # Then every finished day is sealed, each class of data is handled on its own horizon
    assert report.sealed == DAYS
    today = NOW.date()
    assert report.personal_purged == [d for d in DAYS if d < today - timedelta(days=7)]
    assert report.redacted_purged == [d for d in DAYS if d < today - timedelta(days=8)]
    assert report.archived == [d for d in DAYS if d < today - timedelta(days=9)] == [date(2024, 6, 10)]
    with store.session() as session:
        kept = {a.id: a for a in session.scalars(select(Attempt))}
    # (on PostgreSQL the archived day's rows stay in their month's partition until the whole month is dropped)
    still_in_partition = PER_DAY if store.engine.dialect.name == "postgresql" else 0
    assert len(kept) == PER_DAY * (len(DAYS) - 1) + still_in_partition
    personal_until = logchain.day_bounds(date(2024, 6, 12))[1]
    redacted_until = logchain.day_bounds(date(2024, 6, 11))[1]
    for attempt in kept.values():
        assert (attempt.request is None) is (attempt.started_at < personal_until)
        assert (attempt.response is None) is (attempt.started_at < personal_until)
        assert (attempt.request_redacted is None) is (attempt.started_at < redacted_until)

    # and the archived day is a gzip of JSON lines listed in the manifest with its head and checksum
    archive = tmp_path / "archive"
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["days"]["2024-06-10"]
    with store.session() as session:
        sealed = session.get(LogDay, date(2024, 6, 10))
    assert sealed is not None and sealed.archive_file == str(archive / entry["file"])
    assert entry["head"] == sealed.head and entry["rows"] == PER_DAY
    with gzip.open(archive / entry["file"], "rt", encoding="utf-8") as lines:
        archived = [json.loads(line) for line in lines]
    assert [row["number"] for row in archived] == list(range(1, PER_DAY + 1))
    assert all(row["request"] is None and row["request_redacted"] is None for row in archived)
    assert archived[-1]["chain_hash"] == sealed.head

    # and every day verifies, archived or purged or whole; a second run has nothing left to do
    code, output = _verify(store, monkeypatch)
    assert code == 0, output
    assert output.count("✓") == len(DAYS)
    assert sealed.head in output
    again = retention.run(store, _policy(tmp_path), now=NOW.astimezone(UTC))
    assert (again.sealed, again.personal_purged, again.archived) == ([], [], [])


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("error_message", "sửa lại cho đẹp"),  # metadata edited
        ("request", {"HoTenNguoiNop": "Trần Thị B"}),  # a payload with personal data edited
        ("started_at", datetime(2024, 6, 16, 3, 0, tzinfo=UTC)),  # moved within its day
    ],
)
def test_verify_names_the_first_edited_row(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, value: object
) -> None:
    # Given sealed days
    write_attempts(store, DAYS, per_day=PER_DAY)
    retention.run(store, _policy(tmp_path), now=NOW.astimezone(UTC))
    day = date(2024, 6, 16)
    victim = _attempt_ids(store, day)[3]

    # When one stored row of a day is edited behind the hub's back
    with store.session() as session:
        session.execute(update(Attempt).where(Attempt.id == victim).values({column: value}))

    # Then verify names that row and fails; the other days still verify
    code, output = _verify(store, monkeypatch, day)
    assert code == 1
    assert f"attempt {victim}" in output
    assert _verify(store, monkeypatch, day + timedelta(days=1))[0] == 0


def test_verify_sees_a_deleted_row_an_added_row_and_an_edited_archive(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_attempts(store, DAYS, per_day=PER_DAY)
    retention.run(store, _policy(tmp_path), now=NOW.astimezone(UTC))

    # a row deleted from one day
    deleted_day = date(2024, 6, 17)
    last = _attempt_ids(store, deleted_day)[-1]
    with store.session() as session:
        session.execute(delete(Attempt).where(Attempt.id == last))
    code, output = _verify(store, monkeypatch, deleted_day)
    assert code == 1 and "RowsTruncated" in output

    # a row slipped into a sealed day
    added_day = date(2024, 6, 15)
    with store.session() as session:
        message_id = session.execute(select(func.min(Message.id))).scalar_one()
        at = logchain.day_bounds(added_day)[0] + timedelta(minutes=30)
        session.execute(insert(Attempt).values(message_id=message_id, number=99, outcome="succeeded", started_at=at))
    code, output = _verify(store, monkeypatch, added_day)
    assert code == 1 and "RowInserted" in output

    # an archive file rewritten
    path = tmp_path / "archive" / "attempts-2024-06-10.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    rows[2]["outcome"] = "succeeded" if rows[2]["outcome"] != "succeeded" else "retry"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)
    code, output = _verify(store, monkeypatch, date(2024, 6, 10))
    assert code == 1 and "RowEdited" in output and "archive" in output


def test_an_unfinished_day_is_not_sealed_and_traffic_is_not_held(store: Database, tmp_path: Path) -> None:
    write_attempts(store, DAYS, per_day=PER_DAY)
    last_end = logchain.day_bounds(DAYS[-1])[1]
    # half an hour after the last day ended, an attempt of that day may still be on its way: not sealed yet
    report = retention.run(store, _policy(tmp_path), now=last_end + timedelta(minutes=30))
    assert DAYS[-1] not in report.sealed and report.sealed == DAYS[:-1]
    assert logchain.verify(store, DAYS[-1]).mismatch is not None


def test_the_audit_log_is_kept_only_as_long_as_the_policy_says(store: Database, tmp_path: Path) -> None:
    # Given refused sign-ins of long ago and of yesterday
    with store.session() as session:
        for days_ago in (400, 40, 1):
            at = NOW.astimezone(UTC) - timedelta(days=days_ago)
            session.add(AuditEntry(at=at, username="x", action="login.failed", subject="x", details={"count": 300}))
    # When the daily job runs with a 30-day horizon for the audit
    policy = retention.Policy(7, 8, 9, tmp_path / "archive", audit_days=30)
    report = retention.run(store, policy, now=NOW.astimezone(UTC))
    # Then only the entries within it are left
    with store.session() as session:
        left = sorted(session.scalars(select(AuditEntry.at)))
    assert report.audit_deleted == 2 and len(left) == 1
