"""The ``dvc-hub`` command: one entry point whose subcommands run and operate the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli import doctor, status
from cli import scheduler as scheduler_cli
from cli.failures import HubGroup
from console import cli as admin_cli
from devtools import cli as devtools_cli
from foundation import logs
from foundation.settings import get_settings
from foundation.topology import load, validate_file
from hub import backfill_cli, logs_cli, ops_cli
from hub.procedures_cli import app as procedures_app
from migrations import downgrade, upgrade
from reports import cli as reports_cli
from schedules import cli as schedules_cli
from simulators import cli as simulators_cli
from systems import probe_cli, registry

app = typer.Typer(
    name="dvc-hub",
    help="Hệ thống liên thông giữa phần mềm Một cửa điện tử và Cổng Dịch vụ công quốc gia (DVCQG) / integration hub.",
    no_args_is_help=True,
    cls=HubGroup,  # every subcommand's failure ends in one line, not a traceback (cli/failures.py)
    pretty_exceptions_show_locals=False,  # locals may hold credentials and personal data
)
config_app = typer.Typer(help="Kiểm tra tệp cấu hình (check configuration).", no_args_is_help=True)
db_app = typer.Typer(help="Lược đồ cơ sở dữ liệu: nâng cấp hoặc hạ cấp (migrations).", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(ops_cli.worker_app, name="worker")
app.add_typer(ops_cli.replay_app, name="replay")
app.command("demo")(devtools_cli.demo)
app.command("poll")(ops_cli.poll)
app.command("doctor")(doctor.doctor)
app.command("status")(status.status)
app.command("search")(admin_cli.search_dossiers)
app.add_typer(procedures_app, name="procedures")
app.command("admin")(admin_cli.serve)
app.add_typer(admin_cli.users_app, name="users")
app.add_typer(admin_cli.logs_app, name="logs")
admin_cli.logs_app.command("verify")(logs_cli.verify)
admin_cli.logs_app.command("retain")(logs_cli.retain)
app.add_typer(admin_cli.dossier_app, name="dossier")
app.command("scheduler")(scheduler_cli.scheduler)
app.add_typer(probe_cli.app, name="vendor")
app.command("backfill")(backfill_cli.backfill)
app.add_typer(schedules_cli.jobs_app, name="jobs")
app.add_typer(simulators_cli.app, name="simulate")
app.add_typer(reports_cli.app, name="report")
app.command("reconcile")(reports_cli.reconcile)

console = Console()
errors = Console(stderr=True)


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Khi lỗi, in cả traceback (để báo lỗi) / show the traceback of an error.")
    ] = False,
) -> None:
    settings = get_settings()
    logs.configure(settings.log_level, settings.effective_log_format)


@config_app.command("check")
def config_check(
    files: Annotated[list[Path], typer.Argument(help="Topology YAML files to validate.")],
    overlay: Annotated[
        Path | None, typer.Option(help="A second topology file laid over each (as DVC_HUB_TOPOLOGY_OVERLAY).")
    ] = None,
) -> None:
    """Validate topology files and each system's options; every problem is printed with its path in the file."""
    failed = False
    for path in files:
        problems = validate_file(path, overlay)
        if not problems:
            problems = registry.check(load(path, overlay))
        if problems:
            failed = True
            errors.print(f"[red]✗ {path}[/red] — {len(problems)} lỗi (problems):")
            for problem in problems:
                errors.print(f"  {problem}", markup=False, highlight=False)
        else:
            console.print(f"[green]✓ {path}[/green] hợp lệ (valid)")
            for warning in registry.without_updates(load(path, overlay)):
                console.print(f"  [yellow]⚠[/yellow] {warning}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (the newest by default)."""
    upgrade(get_settings().database_url, revision)
    console.print(f"Schema at {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Revision to go back to, or 'base'.")]) -> None:
    """Revert migrations down to REVISION."""
    downgrade(get_settings().database_url, revision)
    console.print(f"Schema at {revision}.")


if __name__ == "__main__":
    app()
