"""Every date option reads ``dd/mm/yyyy`` as Vietnamese forms write it, and ISO ``yyyy-mm-dd`` alike; a day given as
the end of a range includes that day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from cli.main import app
from foundation import dates
from foundation.clock import VN_TZ
from hub.store.db import Database
from tests.admin import seed


@pytest.mark.parametrize("text", ["07/12/2026", "7/12/2026", "2026-12-07", " 07/12/2026 "])
def test_a_day_is_read_day_first_or_iso(text: str) -> None:
    assert dates.day(text) == date(2026, 12, 7)


@pytest.mark.parametrize("text", ["31/02/2026", "2026/12/07", "12-07-2026", "07/12/26", "hôm qua", ""])
def test_anything_else_is_refused_with_the_forms_accepted(text: str) -> None:
    with pytest.raises(dates.DateInputError, match="dd/mm/yyyy"):
        dates.day(text)


def test_a_range_starts_at_its_first_day_and_ends_after_its_last_in_vietnam() -> None:
    assert dates.since("31/10/2023") == datetime(2023, 10, 31, tzinfo=VN_TZ)
    assert dates.until("31/10/2023") == datetime(2023, 11, 1, tzinfo=VN_TZ)
    assert dates.until("2023-10-31") == dates.until("31/10/2023")


def test_a_time_may_follow_the_day_and_an_iso_offset_is_kept() -> None:
    assert dates.since("31/10/2023 14:30") == datetime(2023, 10, 31, 14, 30, tzinfo=VN_TZ)
    assert dates.until("31/10/2023 14:30") == datetime(2023, 10, 31, 14, 30, tzinfo=VN_TZ)
    assert dates.since("2023-10-31T14:30") == datetime(2023, 10, 31, 14, 30, tzinfo=VN_TZ)
    assert dates.since("2023-10-31T07:30+00:00") == datetime(2023, 10, 31, 7, 30, tzinfo=UTC)
    with pytest.raises(dates.DateInputError, match="HH:MM"):
        dates.since("31/10/2023 25:00")


@pytest.mark.parametrize("day", ["07/12/2026", "2026-12-07"])
def test_logs_verify_reads_the_day_either_way(day: str, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["logs", "verify", "--day", day])
    assert "2026-12-07" in result.output  # 7 December, not 12 July: an unsealed day, reported as such
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("since", "until", "matched"),
    [
        ("31/10/2023", "31/10/2023", 1),
        ("2023-10-31", "2023-10-31", 1),
        ("30/10/2023", "30/10/2023", 0),
        ("31/10/2023 23:00", "31/10/2023 23:45", 1),
    ],
)
def test_replay_bulk_counts_what_was_created_on_the_days_given(
    since: str, until: str, matched: int, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a message parked at 23:30 on 31 October in Vietnam (16:30 UTC)
    seed.log(db, now=datetime(2023, 10, 31, 16, 40, tzinfo=UTC))
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)

    result = CliRunner().invoke(app, ["replay", "bulk", "--dry-run", "--since", since, "--until", until])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{matched} ")


@pytest.mark.parametrize("period", ["10/2023", "2023-10"])
def test_a_report_period_is_a_month_written_either_way(
    period: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["report", "late", "--period", period, "--json"])
    assert result.exit_code == 0, result.output
    assert '"period": "2023-10"' in result.stdout
