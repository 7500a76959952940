"""An operator's mistake on the command line ends in one Vietnamese line that says what to do, never a traceback;
``--debug`` brings the traceback back."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.failures import explain
from cli.main import app
from foundation.errors import ConfigurationError
from hub.store.db import Database

DVC_HUB = Path(sys.executable).parent / "dvc-hub"
DATABASE_DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/x"  # nothing listens on port 1


@dataclass(frozen=True)
class Mistake:
    args: list[str]
    exit_code: int
    says: str  # what the line must contain: what is wrong or what to do
    database: str = "migrated"  # migrated, empty (never migrated) or down
    env: dict[str, str] = field(default_factory=dict)


MISTAKES = {
    "an unknown message id": Mistake(["replay", "message", "999"], 1, "Không tìm thấy thông điệp 999"),
    "an unknown replay job": Mistake(["replay", "status", "999"], 1, "Không có lệnh gửi lại số 999"),
    "a state that does not exist": Mistake(
        ["logs", "search", "--state", "pending"], 2, "chọn một trong: queued, running"
    ),
    "the database down": Mistake(["replay", "status", "1"], 1, "Không kết nối được cơ sở dữ liệu", database="down"),
    "a database never migrated": Mistake(["logs", "search"], 1, "chạy `dvc-hub db upgrade`", database="empty"),
    "a broken topology for a report": Mistake(
        ["report", "indicators"], 1, "dvc-hub config check", env={"DVC_HUB_TOPOLOGY_FILE": "broken"}
    ),
    "a day that does not exist": Mistake(["logs", "verify", "--day", "31/02/2026"], 2, "dd/mm/yyyy"),
    "a day in another format": Mistake(["logs", "verify", "--day", "2026/12/07"], 2, "dd/mm/yyyy"),
    "a setting out of its range": Mistake(
        ["logs", "search"], 1, "DVC_HUB_ENVIRONMENT", env={"DVC_HUB_ENVIRONMENT": "staging"}
    ),
    "an option that does not exist": Mistake(["logs", "search", "--days", "3"], 2, "--days"),
    "a unit that does not exist": Mistake(["poll", "5177"], 2, "Không có đơn vị đang hoạt động mã 5177"),
}


@pytest.fixture
def broken_topology(tmp_path: Path) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text("name: Quảng Nam\nunits: [\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_ends_in_one_line_that_says_what_to_do(
    mistake: Mistake,
    db: Database,
    sqlite_url: str,
    tmp_path: Path,
    broken_topology: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the database the mistake needs, and its settings
    url = {"migrated": db.url, "empty": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "down": DATABASE_DOWN}
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", url[mistake.database])
    for name, value in mistake.env.items():
        monkeypatch.setenv(name, str(broken_topology) if value == "broken" else value)

    # When the operator runs the command
    result = CliRunner().invoke(app, mistake.args)

    # Then one line on stderr says it, nothing else is printed, and the exit code says which kind of mistake
    assert result.exit_code == mistake.exit_code, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert mistake.says in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_debug_shows_the_error_itself(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["--debug", "replay", "message", "999"])
    assert isinstance(result.exception, ConfigurationError)
    assert result.exit_code == 1


def test_the_database_password_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", "postgresql+psycopg://hub:bí-mật@127.0.0.1:1/hub")
    result = CliRunner().invoke(app, ["replay", "status", "1"])
    assert result.exit_code == 1
    assert "bí-mật" not in result.output and "127.0.0.1:1/hub" in result.output


def test_an_error_the_hub_does_not_expect_keeps_its_traceback() -> None:
    assert explain(RuntimeError("a bug")) is None
    assert explain(KeyError("a bug")) is None


def test_the_state_help_offers_only_states_that_exist() -> None:
    result = CliRunner().invoke(app, ["logs", "search", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "pending" not in result.output and "parked" in result.output


def test_a_postgresql_database_never_migrated_says_to_run_db_upgrade(postgres_url: str) -> None:
    # The console script, as an operator runs it: the command leaves its connection pool to the process's end
    env = {**os.environ, "DVC_HUB_DATABASE_URL": postgres_url}
    result = subprocess.run([DVC_HUB, "replay", "status", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "chạy `dvc-hub db upgrade`" in result.stderr, result.stderr
