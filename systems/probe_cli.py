"""``dvc-hub vendor probe``: the integrator's first tool with a new one-stop-shop vendor (see :mod:`systems.probe`)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from foundation.clock import vietnam_now
from foundation.errors import ConfigurationError
from foundation.settings import get_settings
from foundation.topology import load
from mappings import normalize
from systems.probe import ProbeReport, probe

app = typer.Typer(
    help="Tiếp nhận một nhà cung cấp phần mềm một cửa: thử hồ sơ cấu hình với dịch vụ của họ (vendor).",
    no_args_is_help=True,
)


@app.command("probe")
def probe_command(
    system: Annotated[str, typer.Argument(help="The system's name in the topology.")],
    unit: Annotated[
        str | None, typer.Option(help="Unit whose change feed is read (default: the first it serves).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Read the feed from this time (default: 30 days ago).")] = None,
    code: Annotated[str | None, typer.Option(help="Dossier to fetch (default: the feed's first).")] = None,
    record: Annotated[
        Path | None, typer.Option(help="A saved answer of the dossier operation (SOAP envelope or JSON), offline.")
    ] = None,
    topology: Annotated[Path | None, typer.Option(help="Topology YAML (default: the configured one).")] = None,
    show_paths: Annotated[
        bool,
        typer.Option(
            "--show-paths",
            help="List every path of the feed's and the dossier's answers, with the profile key each needs "
            "(a DataSet's table, a record in XML or JSON text): what responses.* and record.fields name.",
        ),
    ] = False,
) -> None:
    """Read a unit's change feed and one dossier through the system's vendor profile; show every problem at once."""
    console = Console()
    settings = get_settings()
    if topology is not None:  # the topology given is the one whose units (agency ids) the system names
        settings = settings.model_copy(update={"topology_file": topology})
    spec = load(settings.topology_file)
    if system not in spec.systems:
        console.print(f"[red]Không có hệ thống {system} trong topology / no system {system}[/red]")
        raise typer.Exit(2)
    if unit is None and record is None:
        unit = next((u.code for u in spec.units if u.system == system), None)
    try:
        start = normalize.moment(since) if since else vietnam_now() - timedelta(days=30)
    except normalize.Invalid as exc:
        console.print(f"[red]--since: {exc}[/red]")
        raise typer.Exit(2) from exc
    try:
        report = probe(
            spec.systems[system],
            settings,
            unit=unit,
            since=start,
            code=code,
            saved=record.read_bytes() if record else None,
            show_paths=show_paths,
        )
    except ConfigurationError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    render(console, report)
    raise typer.Exit(0 if report.ok else 1)


def render(console: Console, report: ProbeReport) -> None:
    """The report for a terminal: the feed, the raw record (masked), the canonical dossier (masked), the problems."""
    console.rule(f"[bold]{report.system}[/bold] — hồ sơ nhà cung cấp (vendor profile) {report.vendor or '?'}")
    if report.profile_file:
        console.print(f"Tệp hồ sơ (profile file): {report.profile_file}")
    if report.feed:
        table = Table(title=f"Luồng thay đổi (change feed): {len(report.feed)} mục, trang sau: {report.next_token}")
        for column in ("dossier", "version", "changed at"):
            table.add_column(column)
        for ref in report.feed[:10]:
            table.add_row(ref.dossier_code, str(ref.version), ref.updated_at.isoformat())
        if report.unit_sent is not None:
            table.caption = f"đơn vị được hỏi là (the unit was asked for as) {report.unit_sent!r}"
        console.print(table)
    for role, paths in report.paths.items():
        console.print(f"[bold]Đường dẫn trong câu trả lời (paths in the answer) {role}[/bold]")
        for line in paths:
            console.print(f"  {line}", markup=False, highlight=False)
    if report.raw is not None:
        console.print(f"[bold]Bản ghi của nhà cung cấp (the vendor's record) {report.dossier_code or ''}[/bold]")
        console.print_json(_json(report.raw))
    if report.canonical is not None:
        console.print("[bold]Hồ sơ chuẩn (canonical dossier)[/bold]")
        console.print_json(_json(report.canonical))
    if report.coded:
        table = Table(title="Giá trị mã (coded values) → quốc gia (national)")
        for column in ("table", "vendor's code", "national", "meaning"):
            table.add_column(column)
        for coded in report.coded:
            national = "—" if coded.national is None else str(coded.national)
            table.add_row(coded.table, coded.vendor, national, coded.label)
        console.print(table)
    if report.unread:
        console.print(
            "[yellow]Trường chưa được đọc (fields no profile key reads):[/yellow] " + ", ".join(report.unread)
        )
    if report.findings:
        table = Table(title=f"[red]{len(report.findings)} vấn đề (problems)[/red]")
        for column in ("where", "problem", "profile keys to change"):
            table.add_column(column)
        for finding in report.findings:
            table.add_row(finding.where, finding.message, "\n".join(finding.keys))
        console.print(table)
    else:
        console.print("[green]OK: hồ sơ nhà cung cấp đọc được luồng thay đổi và hồ sơ (the profile reads both)[/green]")


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
