"""``dvc-hub procedures``: import, export, set and show local → national procedure-code mappings."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from foundation.clock import VN_TZ
from foundation.settings import get_settings
from hub import procedures
from hub.store.db import Database
from mappings.errors import ValidationFailed

app = typer.Typer(
    help="Procedure-code mappings: local code → national procedure code (versioned).", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

UserOption = Annotated[
    str | None, typer.Option("--user", help="Người thay đổi, ghi vào nhật ký (mặc định: tên tài khoản máy).")
]


def _db() -> Database:
    return Database(get_settings().database_url)


def _user(user: str | None) -> str:
    return user or f"cli:{getpass.getuser()}"


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: local_code,national_code,...")],
    user: UserOption = None,
) -> None:
    """Import a mapping CSV; changed rows become new versions, identical rows are left alone."""
    db = _db()
    try:
        counts = procedures.import_csv(db, file, _user(user))
    except ValidationFailed as exc:
        errors.print(f"[red]✗ {file}[/red] — {len(exc.problems)} lỗi (problems):")
        for problem in exc.problems:
            errors.print(f"  {problem.message_vi}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print(
        f"Đã nhập (imported): {counts.created} mới (new), {counts.updated} thay đổi (changed), "
        f"{counts.unchanged} giữ nguyên (unchanged)."
    )


@app.command("export")
def export_command(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Print every active mapping as CSV (the import format)."""
    db = _db()
    try:
        content = procedures.export_csv(db)
    finally:
        db.dispose()
    if output is None:
        typer.echo(content, nl=False)
    else:
        output.write_text(content, encoding="utf-8")


@app.command("set")
def set_command(
    local: Annotated[str, typer.Argument(help="The one-stop-shop's procedure code.")],
    national: Annotated[str, typer.Argument(help="The national procedure code (mã TTHC).")],
    name: Annotated[str | None, typer.Option(help="Procedure name (TenTTHC).")] = None,
    field_code: Annotated[str | None, typer.Option(help="Field code (MaLinhVuc).")] = None,
    field_name: Annotated[str | None, typer.Option(help="Field name (TenLinhVuc).")] = None,
    note: Annotated[str | None, typer.Option(help="Why the mapping changes.")] = None,
    user: UserOption = None,
) -> None:
    """Ánh xạ mã thủ tục địa phương LOCAL sang mã TTHC quốc gia NATIONAL; phiên bản trước vẫn giữ trong lịch sử."""
    db = _db()
    try:
        # options left out keep the current version's values, so fixing a code does not erase the names
        current = procedures.get(db, local)
        kept = current.target if current is not None else None
        version = procedures.set_mapping(
            db,
            local,
            national,
            procedure_name=name if name is not None or kept is None else kept.procedure_name,
            field_code=field_code if field_code is not None or kept is None else kept.field_code,
            field_name=field_name if field_name is not None or kept is None else kept.field_name,
            user=_user(user),
            note=note,
        )
    except ValidationFailed as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    named = f" ({version.target.procedure_name})" if version.target.procedure_name else ""
    console.print(
        f"Đã lưu {version.local_code} → {version.target.national_code}{named}, phiên bản {version.version} (saved)",
        markup=False,
        highlight=False,
    )


@app.command("show")
def show_command(local: Annotated[str, typer.Argument(help="The one-stop-shop's procedure code.")]) -> None:
    """Xem ánh xạ của thủ tục LOCAL và lịch sử các phiên bản (giờ Việt Nam)."""
    db = _db()
    try:
        versions = procedures.history(db, local)
    finally:
        db.dispose()
    if not versions:
        errors.print(f"Thủ tục {local!r} chưa được ánh xạ (no mapping for {local!r})", markup=False)
        raise typer.Exit(1)
    for v in versions:
        mark = "*" if v.active else " "
        t = v.target
        console.print(
            f"{mark} v{v.version} {v.local_code} → {t.national_code} | {t.field_code or '-'} {t.field_name or ''} | "
            f"{t.procedure_name or ''} | {v.created_at.astimezone(VN_TZ):%d/%m/%Y %H:%M} {v.created_by or ''} "
            f"{v.note or ''}".rstrip(),
            markup=False,
            highlight=False,
        )
