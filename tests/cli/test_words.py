"""Every command's help and the tables operators read, in Vietnamese: no internal code (state, kind, error class,
incident, audit action, role, level; generated from the code's enums) without its label beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli.main import app
from console.auth import Role, create_user
from foundation.settings import get_settings
from hub.store.db import Database
from tests.admin import seed
from tests.vocabulary import bare_in_text

# Wide enough that no help line wraps: a label and its code stay on one line, as an operator reads them.
_WIDE = {"NO_COLOR": "1", "COLUMNS": "2000"}


def _commands(command: Any, path: list[str]) -> Iterator[list[str]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, [*path, name])


COMMANDS = list(_commands(typer.main.get_command(app), []))


def test_every_command_is_walked() -> None:
    assert len(COMMANDS) > 40 and ["logs", "search"] in COMMANDS and ["replay", "bulk"] in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "dvc-hub")
def test_every_help_shows_labels_not_internal_codes(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=2000, env=_WIDE)
    assert result.exit_code == 0, result.output
    assert bare_in_text(result.output) == []


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Given a log with a delivered dossier and one parked by the portal (remote_rejected), and a console user
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", db.url)
    get_settings.cache_clear()
    seed.log(db)
    with db.session() as session:
        create_user(session, "quantri", seed.PASSWORD, Role.ADMIN)
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (["logs", "search", "--since", "01/01/2000"], "Bị dừng chờ xử lý (parked)"),
        (["dossier", "show", seed.PARKED_CODE], "Hệ thống đối tác từ chối dữ liệu (remote_rejected)"),
        (["users", "list"], "Quản trị viên (admin)"),
        (["jobs", "list"], "poll:motcua-quangnam:20965"),
        (["replay", "bulk", "--dry-run"], "Hệ thống đối tác từ chối dữ liệu (remote_rejected): 1"),
        (["status"], "Đọc lý do từ chối, sửa hồ sơ ở nguồn rồi chạy lại"),  # parked by cause, with what to do
        (["search", "h47-240304"], "Đang xử lý"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_every_table_shows_labels_not_internal_codes(cli_env: None, args: list[str], shows: str) -> None:
    result = CliRunner().invoke(app, args, terminal_width=2000, env=_WIDE)
    assert result.exit_code == 0, result.output
    assert shows in result.output  # the seeded codes are there, labelled: the scan is not looking at an empty table
    assert bare_in_text(result.output) == []


TOPOLOGY = Path(__file__).resolve().parents[2] / "config" / "topologies" / "da-nang-2025.yaml"


def test_the_log_names_units_and_targets_and_an_unknown_unit_is_one_line(
    cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_HUB_TOPOLOGY_FILE", str(TOPOLOGY))
    get_settings.cache_clear()
    found = CliRunner().invoke(app, ["logs", "search", "--since", "01/01/2000"], terminal_width=2000, env=_WIDE)
    assert found.exit_code == 0, found.output
    assert "Xã Núi Thành (20965)" in found.output and "Cổng DVCQG" in found.output
    typo = CliRunner().invoke(app, ["logs", "search", "--unit", "5177"], terminal_width=2000, env=_WIDE)
    assert typo.exit_code == 1
    assert typo.output.strip().splitlines() == [
        "Không có đơn vị mã 5177 trong cấu hình topology; xem danh sách đơn vị bằng dvc-hub config check (no unit 5177)"
    ]


def test_status_shows_services_targets_parked_causes_lags_and_ticks(cli_env: None) -> None:
    result = CliRunner().invoke(app, ["status"], terminal_width=2000, env=_WIDE)
    assert result.exit_code == 0, result.output
    for section in ("Dịch vụ", "Đích", "Bị dừng chờ xử lý theo nguyên nhân", "Độ trễ đồng bộ theo đơn vị", "Lịch chạy"):
        assert section in result.output
    assert "Cơ sở dữ liệu (database) │ ✓ hoạt động" in result.output
    assert "Cấp huyện (district) │ 5 giờ 00" in result.output  # the seeded watermark of 517, five hours behind
    assert "Lấy thay đổi theo lịch" in result.output  # the seeded poll job, by what it does


def test_search_finds_each_dossier_once_by_a_fragment_in_any_case(cli_env: None) -> None:
    found = CliRunner().invoke(app, ["search", "h47-240304"], terminal_width=2000, env=_WIDE)
    assert found.exit_code == 0, found.output
    # two dossiers, three messages between them: one row per dossier
    assert found.output.count(seed.CODE) == 1 and found.output.count(seed.PARKED_CODE) == 1
    assert "2 hồ sơ" in found.output
    nothing = CliRunner().invoke(app, ["search", "zzz"], env=_WIDE)
    assert nothing.exit_code == 0 and "Không tìm thấy hồ sơ nào" in nothing.output
    bare = CliRunner().invoke(app, ["search"], env=_WIDE)
    assert bare.exit_code == 2 and len(bare.output.strip().splitlines()) == 1
