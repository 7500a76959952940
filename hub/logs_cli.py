"""``dvc-hub logs verify`` and ``dvc-hub logs retain``: the tamper-evident chain and the retention job by hand."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from foundation import dates
from foundation.errors import ConfigurationError
from foundation.settings import get_settings
from hub import logchain, retention
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
            help="Chỉ kiểm những ngày này (dd/mm/yyyy hoặc yyyy-mm-dd, giờ Việt Nam); bỏ trống: mọi ngày từ ngày "
            "niêm phong đầu tiên, mối nối giữa các ngày và tệp neo.",
        ),
    ] = None,
) -> None:
    """Walk the signed chain day by day and name what was done to the log: a row edited, inserted or deleted, the
    newest rows cut, a day or an archive missing or cut; exit 1 if anything is."""
    settings = get_settings()
    try:
        key = logchain.chain_key(settings)
    except ConfigurationError as exc:
        errors.print(f"✗ {exc.message}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            sealed = session.scalars(select(LogDay).order_by(LogDay.day))
            heads: dict[date, tuple[int, str | None]] = {d.day: (d.rows, d.head) for d in sealed}
        if day:
            heads = {one: heads.get(one, (0, None)) for one in day}
            found = [v.mismatch for one in day if (v := retention.verify_day(db, one, key=key)).mismatch]
        else:
            found = retention.verify_all(db, key=key, anchor=logchain.anchor_path(settings))
    finally:
        db.dispose()
    bad = {error.day for error in found}
    for one, (rows, head) in heads.items():
        if one not in bad:
            console.print(f"[green]✓ {one}[/green] {rows} bản ghi (rows), head {head}")
    for error in found:
        where = f"attempt {error.attempt_id}: " if error.attempt_id is not None else ""
        errors.print(f"✗ {error.day} {error.name} ({error.error_class}): {where}{error.message}", markup=False,
                     highlight=False)  # fmt: skip
    if found:
        raise typer.Exit(1)


def retain() -> None:
    """Run the daily retention job now: seal finished days, purge payloads past their horizon, archive old days."""
    settings = get_settings()
    db = Database(settings.database_url)
    report = retention.run(db, retention.Policy.from_settings(settings))
    db.dispose()
    console.print(str(report))
