"""``dvc-hub logs verify`` and ``dvc-hub logs retain``: the tamper-evident chain and the retention job by hand."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from foundation import dates
from foundation.settings import get_settings
from hub import retention
from hub.store.db import Database
from hub.store.models import LogDay

console = Console()
errors = Console(stderr=True)


def verify(
    day: Annotated[
        list[date] | None,
        typer.Option(
            "--day",
            parser=dates.day,
            metavar="dd/mm/yyyy",
            help="Ngày cần kiểm (dd/mm/yyyy hoặc yyyy-mm-dd, giờ Việt Nam); mọi ngày đã niêm phong nếu bỏ trống.",
        ),
    ] = None,
) -> None:
    """Recompute each day's hash chain, print its head and the first row that does not match; exit 1 if any."""
    db = Database(get_settings().database_url)
    if day:
        days = list(day)
    else:
        with db.session() as session:
            days = list(session.scalars(select(LogDay.day).order_by(LogDay.day)))
    failed = False
    for one in days:
        verdict = retention.verify_day(db, one)
        if verdict.ok:
            console.print(f"[green]✓ {one}[/green] {verdict.rows} bản ghi (rows), head {verdict.head}")
            continue
        failed = True
        assert verdict.mismatch is not None  # not ok means a mismatch
        where = f"attempt {verdict.mismatch.attempt_id}" if verdict.mismatch.attempt_id is not None else "the day"
        errors.print(
            f"✗ {one}: {where} — {verdict.mismatch.reason} (head {verdict.head}, computed {verdict.computed})",
            markup=False,
            highlight=False,
        )
    db.dispose()
    if failed:
        raise typer.Exit(1)


def retain() -> None:
    """Run the daily retention job now: seal finished days, purge payloads past their horizon, archive old days."""
    settings = get_settings()
    db = Database(settings.database_url)
    report = retention.run(db, retention.Policy.from_settings(settings))
    db.dispose()
    console.print(str(report))
