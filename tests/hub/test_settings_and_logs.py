"""Settings from the environment, secrets that never print, structured logs with bound context."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs
from typer.testing import CliRunner

from cli.main import app
from foundation import logs
from foundation.credentials import credentials
from foundation.errors import ConfigurationError
from foundation.redaction import REMOVED
from foundation.settings import Settings

RECORD = {"ChuHoSo": "Đặng Thị Quỳnh Zara"}  # far from the frames a traceback shows the source lines of


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DVC_HUB_DATABASE_URL", "DVC_HUB_BROKER_URL", "DVC_HUB_ENVIRONMENT"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///") and "/var/" in settings.database_url
    assert settings.broker_url == "memory://"
    assert not settings.uses_redis
    assert settings.effective_log_format == "console"


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DVC_HUB_ENVIRONMENT", "production")
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", "postgresql+psycopg://hub:s3cret@db/hub")
    settings = Settings(_env_file=None)
    assert settings.uses_redis
    assert settings.effective_log_format == "json"
    assert "s3cret" not in repr(settings)
    assert "hub:***@db/hub" in repr(settings)


def test_credentials_come_from_environment_or_secret_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_USERNAME", "quangnam")
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_PASSWORD", "mat-khau")
    found = credentials("dvcqg", Settings(_env_file=None))
    assert found.username == "quangnam"
    assert found.password.get_secret_value() == "mat-khau"
    assert "mat-khau" not in repr(found)

    (tmp_path / "motcua-quangnam").mkdir()
    (tmp_path / "motcua-quangnam" / "username").write_text("hub\n")
    (tmp_path / "motcua-quangnam" / "password").write_text("tu-file\n")
    from_files = credentials("motcua-quangnam", Settings(_env_file=None, secrets_dir=tmp_path))
    assert from_files.password.get_secret_value() == "tu-file"

    with pytest.raises(ConfigurationError, match="DVC_HUB_CRED_NOWHERE_USERNAME"):
        credentials("nowhere", Settings(_env_file=None))


def test_json_logs_carry_bound_context_and_hide_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", "json")
    try:
        with logs.bound(dossier_code="000.00.17.H47-231027-0001", message_id=42, unit="517"):
            logs.get_logger("test").info("đã đồng bộ", password="p@ss", target="dvcqg")
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert line["event"] == "đã đồng bộ"
    assert line["dossier_code"] == "000.00.17.H47-231027-0001"
    assert line["message_id"] == 42
    assert line["unit"] == "517"
    assert line["password"] == REMOVED


def test_bound_context_reaches_captured_logs() -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as captured, logs.bound(dossier_code="X"):
        structlog.get_logger().warning("hello")
    assert captured == [{"event": "hello", "log_level": "warning", "dossier_code": "X"}]


def test_cli_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "config" in result.output and "db" in result.output


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_tracebacks_never_show_local_variables(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a failure in a frame whose local variable holds a personal value
    logs.configure("INFO", fmt)  # type: ignore[arg-type]
    try:
        applicant_name = "-".join(["Nguyễn Thị", "Bí Mật", "Zq7"])  # built at run time: not in the source lines
        try:
            raise RuntimeError("boom " + str(len(applicant_name)))
        except RuntimeError:
            logs.get_logger("test").exception("failed")
        err = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    # Then the traceback is there, the local's value is not
    assert "RuntimeError" in err
    assert "Bí Mật-Zq7" not in err
