"""``dvc-hub poll`` says who will act on its requests when this process ends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app
from hub.store.db import Database
from hub.store.models import Message


def test_with_the_embedded_broker_poll_says_only_a_running_worker_or_scheduler_picks_the_request_up(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    monkeypatch.delenv("DVC_HUB_BROKER_URL", raising=False)  # the embedded default

    result = CliRunner().invoke(app, ["poll", "517"], terminal_width=400)

    assert result.exit_code == 0, result.output
    assert "`dvc-hub worker` hoặc `dvc-hub scheduler` đang chạy" in result.stdout
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.kind == "poll")) == 1
