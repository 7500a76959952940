"""The console's commands: the first admin user, a log search and a dossier's timeline from a shell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cli.main import app
from foundation.settings import get_settings
from hub.store.db import Database
from tests.admin import seed


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    get_settings.cache_clear()
    seed.log(db)
    yield
    get_settings.cache_clear()


def test_the_first_admin_is_created_from_the_shell_and_a_weak_password_is_refused(cli_env: None) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["users", "create", "admin", "--role", "admin", "--password", seed.PASSWORD])
    assert created.exit_code == 0, created.output
    weak = runner.invoke(app, ["users", "create", "tram", "--password", "short"])
    assert weak.exit_code == 1
    listed = runner.invoke(app, ["users", "list"])
    assert "admin" in listed.output and "tram" not in listed.output


def test_logs_search_and_dossier_show_mirror_the_api(cli_env: None) -> None:
    runner = CliRunner()
    found = runner.invoke(app, ["logs", "search", "--dossier", seed.PARKED_CODE, "--json"])
    assert found.exit_code == 0, found.output
    assert '"state": "parked"' in found.output
    shown = runner.invoke(app, ["dossier", "show", seed.CODE], terminal_width=200, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Thành công" in shown.output and seed.APPLICANT not in shown.output
    assert runner.invoke(app, ["dossier", "show", "000.00.00.H47-990101-0001"]).exit_code == 1
