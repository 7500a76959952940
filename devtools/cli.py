"""``dvc-hub demo``: the command that plays :mod:`devtools.demo`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console()


def demo(
    hours: Annotated[int, typer.Option(help="Simulated hours to play.")] = 24,
    backlog: Annotated[int, typer.Option(help="Dossiers that exist before the day starts.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulated data and faults.")] = 2023,
    faults: Annotated[bool, typer.Option(help="Switch faults on during the day.")] = True,
    topology: Annotated[
        str | None,
        typer.Option(
            help="A topology of config/topologies, e.g. da-nang-2025; the three-vendor Quảng Nam 2023 by default."
        ),
    ] = None,
) -> None:
    """Chạy thử toàn bộ hệ thống với các trình mô phỏng, rồi đối soát (demo)."""
    # CLI entry point: the demo loads both simulators and the whole pipeline; importing it only when the command
    # runs keeps every other `dvc-hub` command's start-up from paying for them.
    from devtools.demo import run

    wide = console if console.is_terminal else Console(width=150)  # a log file deserves the whole table
    raise typer.Exit(run(wide, hours=hours, backlog=backlog, seed=seed, faults=faults, topology_name=topology))
