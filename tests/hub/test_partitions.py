"""Monthly partitions of the attempts on PostgreSQL: the migration that converts a table with rows, months created
ahead by the retention job, and an archived month dropped whole with every day still verifiable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text
from structlog.testing import capture_logs
from typer.testing import CliRunner

from cli.main import app
from foundation.clock import VN_TZ, utcnow
from foundation.settings import get_settings
from hub import logchain, retention
from hub.store import partitions
from hub.store.db import Database
from hub.store.models import Attempt, LogDay, Message
from migrations import downgrade, upgrade
from tests.hub.factories import write_attempts

MAY, JUNE, JULY = date(2024, 5, 1), date(2024, 6, 1), date(2024, 7, 1)


@pytest.fixture
def store(postgres_url: str) -> Iterator[Database]:
    upgrade(postgres_url)
    database = Database(postgres_url)
    yield database
    database.dispose()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# The columns attempts had at 0009, read as SQL: the model's own (a later revision's row_mac) would not be there.
COLUMNS_0009 = (*logchain.METADATA, *logchain.PERSONAL, *logchain.REDACTED, "personal_digest", "redacted_digest",
                "chain_hash")  # fmt: skip


def _rows(db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        query = text(f"SELECT {', '.join(COLUMNS_0009)} FROM attempts ORDER BY id")  # noqa: S608 - constants
        return [dict(row._mapping) for row in session.execute(query)]


def _kind(db: Database) -> str:
    """``p`` for a partitioned table, ``r`` for a plain one."""
    with db.session() as session:
        return str(session.execute(text("SELECT relkind FROM pg_class WHERE relname = 'attempts'")).scalar_one())


def _months(db: Database) -> list[date]:
    with db.session() as session:
        return partitions.existing(session.connection())


def _in_default(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT count(*) FROM attempts_default")).scalar_one())


def _verify(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[int, str]:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    monkeypatch.setenv("DVC_HUB_ARCHIVE_DIR", str(tmp_path / "archive"))  # its anchor file, not the project's
    get_settings.cache_clear()  # read since the test began (the chain's key), before the database was named
    result = CliRunner().invoke(app, ["logs", "verify"])
    return result.exit_code, result.output


def _new_attempt_id(db: Database) -> int:
    with db.session() as session:
        message_id = session.execute(select(func.min(Message.id))).scalar_one()
        # the columns named, not the model's: a later revision's (row_mac) is not there after a downgrade
        values = {"message_id": message_id, "number": 9, "outcome": "succeeded", "started_at": utcnow()}
        return int(session.execute(insert(Attempt).values(values).returning(Attempt.id)).scalar_one())


def test_migration_converts_a_table_with_rows_and_back(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database at 0009 with attempts over two months (sealed after the upgrade: sealing now writes columns
    # of a later revision)
    upgrade(postgres_url, "0009")
    db = Database(postgres_url)
    write_attempts(db, _days(date(2024, 5, 30), date(2024, 6, 2)), per_day=2)
    before = _rows(db)
    assert _kind(db) == "r"

    # When it is upgraded
    upgrade(postgres_url)

    # Then attempts is partitioned by month: the months its rows span, this month and the next ones, a default
    assert _kind(db) == "p"
    this_month = partitions.month_of(utcnow())
    ahead = list(partitions.months(this_month, this_month, ahead=partitions.MONTHS_AHEAD))
    assert _months(db) == [MAY, JUNE, *_between(JUNE, this_month), *ahead]
    assert len(ahead) == 1 + partitions.MONTHS_AHEAD
    # every row kept as it was, in its month's partition, none in the default
    assert _rows(db) == before
    for day in _days(date(2024, 5, 30), date(2024, 6, 1)):
        assert logchain.seal(db, day) is not None
    before = _rows(db)
    with db.session() as session:
        in_may = session.execute(text("SELECT count(*) FROM attempts_2024_05")).scalar_one()
    assert in_may == 4 and _in_default(db) == 0
    # ids go on from the same sequence, and the sealed days still verify
    assert _new_attempt_id(db) == before[-1]["id"] + 1
    code, output = _verify(db, monkeypatch, tmp_path)
    assert code == 0, output
    assert output.count("✓") == 3

    # and the downgrade gives the plain table back with every row
    downgrade(postgres_url, "0009")
    assert _kind(db) == "r"
    assert [r["id"] for r in _rows(db)] == [*(r["id"] for r in before), before[-1]["id"] + 1]
    assert _new_attempt_id(db) == before[-1]["id"] + 2
    assert _rows(db)[:-2] == before  # chain hashes and all, as sealed
    db.dispose()


def _between(first: date, last: date) -> list[date]:
    """The months strictly between ``first`` and ``last``."""
    return [m for m in partitions.months(first, last) if first < m < last]


def test_the_job_creates_months_ahead_and_moves_rows_the_default_took(store: Database, tmp_path: Path) -> None:
    # Given attempts of a month years ahead, which no partition covers yet: the default partition took them
    later = date(2031, 3, 1)
    write_attempts(store, [date(2031, 3, 14)], per_day=2)
    assert _in_default(store) == 2

    # When the daily job runs in that month
    now = datetime(2031, 3, 15, 9, 0, tzinfo=VN_TZ).astimezone(UTC)
    report = retention.run(store, retention.Policy(7, 8, 9, tmp_path / "archive"), now=now)

    # Then that month and the next ones exist, the rows moved into their month, and a second run creates nothing
    assert report.months_created == [later, date(2031, 4, 1), date(2031, 5, 1)]
    assert set(report.months_created) <= set(_months(store))
    assert _in_default(store) == 0
    with store.session() as session:
        assert session.execute(text("SELECT count(*) FROM attempts_2031_03")).scalar_one() == 2
    assert retention.run(store, retention.Policy(7, 8, 9, tmp_path / "archive"), now=now).months_created == []


def test_an_archived_month_is_dropped_whole_and_every_day_still_verifies(
    store: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given attempts every day from 28 May to 3 July (their months created), sealed as the days end
    days = _days(date(2024, 5, 28), date(2024, 7, 3))
    for month in (MAY, JUNE, JULY):
        with store.session() as session:
            partitions.create(session.connection(), month)
    write_attempts(store, days, per_day=2)
    policy = retention.Policy(personal_days=5, redacted_days=7, metadata_days=9, archive_dir=tmp_path / "archive")

    # When the job runs on 12 July: every day before 3 July is past the metadata horizon
    now = datetime(2024, 7, 12, 9, 0, tzinfo=VN_TZ).astimezone(UTC)
    report = retention.run(store, policy, now=now)

    # Then those days are archived, May and June (wholly archived) are dropped as partitions, not row by row
    assert report.archived == [d for d in days if d < date(2024, 7, 3)]
    assert report.months_dropped == [MAY, JUNE]
    assert MAY not in _months(store) and JUNE not in _months(store) and JULY in _months(store)
    # July stays whole: its archived days' rows go with it, when it is wholly past the horizon
    with store.session() as session:
        left = sorted({logchain.day_of(a) for a in session.scalars(select(Attempt.started_at))})
        sealed = {d.day: d for d in session.scalars(select(LogDay))}
    assert left == [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]
    assert all(sealed[d].archive_file for d in days if d < date(2024, 7, 3))

    # and every day verifies, from its archive file or from the table
    code, output = _verify(store, monkeypatch, tmp_path)
    assert code == 0, output
    assert output.count("✓") == len(days)

    # and July goes once wholly past the horizon, but only with no row but those its archives hold: a row slipped
    # into an archived day after sealing keeps the month, and the job says which day
    write_attempts(store, [date(2024, 7, 2)], per_day=1)
    later = datetime(2024, 8, 10, 9, 0, tzinfo=VN_TZ).astimezone(UTC)
    with capture_logs() as captured:
        report = retention.run(store, policy, now=later)
    assert report.months_dropped == [] and JULY in _months(store)
    kept = [e for e in captured if e["event"] == "attempt_month_not_dropped"]
    assert [(e["month"], e["days"]) for e in kept] == [("2024-07-01", ["2024-07-02"])]
    with store.session() as session:
        slipped = session.execute(select(func.max(Attempt.id))).scalar_one()
        session.execute(delete(Attempt).where(Attempt.id == slipped))
    assert retention.run(store, policy, now=later).months_dropped == [JULY]
    assert JULY not in _months(store)
    code, output = _verify(store, monkeypatch, tmp_path)
    assert code == 0, output
    assert output.count("✓") == len(days)
