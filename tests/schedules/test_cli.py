"""``dvc-hub jobs`` and the backfill command's date range, through the real command line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from foundation.settings import get_settings
from hub.backfill_cli import _instant
from hub.store.db import Database
from hub.store.models import AuditEntry
from schedules import control
from schedules.claims import DatabaseClaims
from schedules.plan import JobKind, JobSpec
from schedules.scheduler import Scheduler
from schedules.timing import Every


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    get_settings.cache_clear()
    spec = JobSpec("poll:motcua-quangnam:517", JobKind.POLL, Every(60), "motcua-quangnam", "517")
    Scheduler(db, [spec], DatabaseClaims(db), lambda s, t: "ok").register()
    yield db
    get_settings.cache_clear()


def test_jobs_are_listed_paused_and_resumed_from_the_command_line(cli_db: Database) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert "poll:motcua-quangnam:517" in listed.output and "active" in listed.output

    paused = runner.invoke(app, ["jobs", "pause", "poll:motcua-quangnam:517", "--user", "ops"])
    assert paused.exit_code == 0, paused.output
    assert [j.paused for j in control.list_jobs(cli_db)] == [True]
    assert "paused" in runner.invoke(app, ["jobs", "list"]).output

    assert runner.invoke(app, ["jobs", "resume", "poll:motcua-quangnam:517"]).exit_code == 0
    assert [j.paused for j in control.list_jobs(cli_db)] == [False]
    with cli_db.session() as session:
        audit = session.execute(select(AuditEntry.username, AuditEntry.action, AuditEntry.subject)).all()
    assert audit == [
        ("ops", "schedule.pause", "poll:motcua-quangnam:517"),
        ("cli", "schedule.resume", "poll:motcua-quangnam:517"),
    ]

    unknown = runner.invoke(app, ["jobs", "pause", "poll:nope:1"])
    assert unknown.exit_code == 1
    assert "poll:nope:1" in unknown.output


def test_backfill_days_are_vietnam_days_and_the_last_one_is_included() -> None:
    assert _instant("2024-03-01", end_of_day=False) == datetime(2024, 2, 29, 17, 0, tzinfo=UTC)
    assert _instant("2024-03-30", end_of_day=True) == datetime(2024, 3, 30, 17, 0, tzinfo=UTC)
    assert _instant("2024-03-01T08:00:00+00:00", end_of_day=True) == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert _instant("2024-03-01T08:00", end_of_day=False) == datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    with pytest.raises(typer.BadParameter):
        _instant("yesterday", end_of_day=False)
