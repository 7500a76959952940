"""The console's commands: ``dvc-hub admin`` runs it; ``users``, ``logs search`` and ``dossier show`` mirror the
JSON API from a shell on the server (they read the database directly, so they work when the web console is down).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

import prometheus_client
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from console.alerts import AlertSettings
from console.auth import Role, ThrottlePolicy, UserError, create_user, password_context, set_disabled, unlock_user
from console.formatting import local_time
from console.models import User
from console.queries import SearchFilter, search, timeline
from console.runner import Background
from foundation import dates
from foundation.clock import vietnam_now
from foundation.settings import Environment, get_settings
from foundation.topology import configured
from hub.store.db import Database
from hub.store.models import MessageState

console = Console()
errors = Console(stderr=True)

users_app = typer.Typer(help="Console users: create, list, disable, unlock.", no_args_is_help=True)
logs_app = typer.Typer(help="Search the integration log.", no_args_is_help=True)
dossier_app = typer.Typer(help="Everything the hub knows about one dossier.", no_args_is_help=True)


def _db() -> Database:
    return Database(get_settings().database_url)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8700,
    alert_interval: Annotated[float, typer.Option(help="Seconds between alert evaluations.")] = 60.0,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics without a token on this port (an internal address).")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface for --metrics-port.")] = "127.0.0.1",
) -> None:
    """Run the admin console (web pages, JSON API at /api/v1; metrics with a token or on --metrics-port)."""
    # CLI entry point: the web server and the FastAPI application are loaded only when the console runs, so that
    # every other `dvc-hub` command starts without them.
    import uvicorn

    from console.app import Console as AppConsole
    from console.app import create_app
    from console.hardening import server_config

    settings = get_settings()
    db = _db()
    alerts = AlertSettings()
    app = create_app(
        AppConsole(
            db=db,
            topology=configured(settings),
            alerts=alerts,
            production=settings.environment is Environment.PRODUCTION,
            throttle=ThrottlePolicy(
                free_failures=settings.signin_free_failures,
                user_lockout_after=settings.signin_user_lockout_after,
                lockout_addresses=settings.signin_lockout_addresses,
                client_lockout_after=settings.signin_client_lockout_after,
                lockout=timedelta(seconds=settings.signin_lockout_seconds),
            ),
            metrics_token=settings.console_metrics_token,
            max_body_bytes=settings.console_max_body_bytes,
            api_docs=settings.console_api_docs,
        )
    )
    if metrics_port is not None:
        prometheus_client.start_http_server(metrics_port, addr=metrics_host, registry=app.state.metrics_registry)
    background = Background(db, alerts, alert_interval=alert_interval).start()
    console.print(f"Bảng điều khiển: http://{host}:{port}/ (admin console)")
    proxies = [p.strip() for p in settings.console_trusted_proxies.split(",") if p.strip()]
    try:
        uvicorn.Server(server_config(app, host=host, port=port, trusted_proxies=proxies)).run()
    finally:
        background.stop()
        db.dispose()


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[Role, typer.Option(help="viewer, operator or admin.")] = Role.VIEWER,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="12+ characters, not guessable.")
    ] = "",
) -> None:
    """Create a console user (the first admin: `dvc-hub users create admin --role admin`)."""
    settings = get_settings()
    # The province's place names when its topology is in place (a first admin may be created before it is).
    topology = configured(settings) if settings.topology_file.exists() else None
    context = password_context(topology, vietnam_now().year)
    db = _db()
    try:
        with db.session() as session:
            create_user(session, username, password, role, actor="cli", context=context)
    except UserError as exc:
        errors.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(f"Đã tạo người dùng {username} ({role.value}) — user created")


@users_app.command("list")
def users_list() -> None:
    """List console users."""
    table = Table("username", "role", "disabled", "last login")
    with _db().session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            table.add_row(user.username, user.role, "✓" if user.disabled else "", _fmt(user.last_login_at))
    console.print(table)


@users_app.command("disable")
def users_disable(username: str, enable: Annotated[bool, typer.Option(help="Enable instead.")] = False) -> None:
    """Disable a user (their sessions end at once), or enable them again with --enable."""
    try:
        with _db().session() as session:
            set_disabled(session, username, not enable, actor="cli")
    except UserError as exc:
        errors.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(f"{username}: {'đã mở khóa (enabled)' if enable else 'đã khóa (disabled)'}")


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """Lift a user's sign-in lockout and the delays of every address that failed as them, at once."""
    try:
        with _db().session() as session:
            lifted = unlock_user(session, username, actor="cli")
    except UserError as exc:
        errors.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    if lifted:
        console.print(f"{username}: đã gỡ khóa đăng nhập, {lifted} khóa (sign-in lockout lifted, {lifted} keys)")
    else:
        console.print(f"{username}: không bị khóa đăng nhập (not locked out)")


@users_app.command("totp")
def users_totp(
    username: str, off: Annotated[bool, typer.Option("--off", help="Remove the second factor.")] = False
) -> None:
    """Require a TOTP code (an authenticator app) at this user's sign-in; prints the URI to scan, or --off."""
    from console.auth import set_totp

    try:
        with _db().session() as session:
            uri = set_totp(session, username, enable=not off, actor="cli")
    except UserError as exc:
        errors.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    if uri is None:
        console.print(f"{username}: đã tắt xác thực hai bước (second factor removed)")
    else:
        console.print(f"{username}: quét mã này bằng ứng dụng xác thực (scan in an authenticator app):\n{uri}")


def _fmt(value: datetime | None) -> str:
    return local_time(value)


@logs_app.command("search")
def logs_search(
    dossier_code: Annotated[str | None, typer.Option("--dossier", "-d", help="Exact dossier code (all time).")] = None,
    unit: Annotated[str | None, typer.Option(help="Unit code.")] = None,
    procedure: Annotated[str | None, typer.Option(help="Local procedure code.")] = None,
    target: Annotated[str | None, typer.Option(help="Target, e.g. dvcqg.")] = None,
    state: Annotated[MessageState | None, typer.Option(help="Trạng thái của thông điệp (the messages' state).")] = None,
    error_class: Annotated[str | None, typer.Option(help="e.g. mapping_missing.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=dates.since,
            metavar="dd/mm/yyyy",
            help="Từ ngày (giờ Việt Nam; cả yyyy-mm-dd); hôm nay nếu bỏ trống.",
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(parser=dates.until, metavar="dd/mm/yyyy", help="Đến hết ngày (giờ Việt Nam; cả yyyy-mm-dd)."),
    ] = None,
    before_id: Annotated[int | None, typer.Option(help="Keyset cursor: the next page starts below this id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Search the integration log, newest first (mirrors GET /api/v1/messages)."""
    flt = SearchFilter.model_validate(
        {
            "dossier_code": dossier_code,
            "unit_code": unit,
            "procedure_code": procedure,
            "target": target,
            "state": state,
            "error_class": error_class,
            "since": since,
            "until": until,
            "before_id": before_id,
            "limit": limit,
        }
    )
    with _db().session() as session:
        page = search(session, flt, personal=False)  # the JSON lines may be pasted anywhere: no personal data
    if as_json:
        for row in page.rows:
            console.print_json(json.dumps(asdict(row), default=str, ensure_ascii=False))
    else:
        table = Table("id", "created", "dossier", "kind", "unit", "target", "state", "att.", "error")
        for r in page.rows:
            table.add_row(
                str(r.id),
                _fmt(r.created_at),
                r.dossier_code or "—",
                r.kind,
                r.unit_code or "—",
                r.target or "—",
                r.state,
                str(r.attempts),
                f"{r.error_class}: {(r.error_message or '')[:60]}" if r.error_class else "",
            )
        console.print(table)
    if page.next_before_id:
        console.print(f"Trang sau (next page): --before-id {page.next_before_id}")


@dossier_app.command("show")
def dossier_show(
    code: str,
    personal: Annotated[bool, typer.Option(help="Show personal data (operators only; you are on the server).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The whole timeline as JSON.")] = False,
) -> None:
    """A dossier's timeline: messages and attempts across targets, and what changed between versions."""
    with _db().session() as session:
        tl = timeline(session, code, personal=personal)
    if tl is None:
        errors.print(f"Không tìm thấy hồ sơ {code} (dossier not found)")
        raise typer.Exit(1)
    if as_json:
        console.print_json(json.dumps(asdict(tl), default=str, ensure_ascii=False))
        return
    if tl.dossier:
        d = tl.dossier
        console.print(
            f"[bold]{code}[/bold] trạng thái {d['status']} · v{d['version']} · đơn vị {d['receiving_unit']} · "
            f"thủ tục {d['local_procedure_code']} → {d['national_procedure_code'] or '—'}"
        )
    for v in tl.versions:
        changes = ", ".join(f"{c.path}: {c.old!r} → {c.new!r}" for c in v.changes[:8])
        console.print(f"  v{v.version} status {v.status} {_fmt(v.source_updated_at)} {changes}", highlight=False)
    table = Table("id", "created", "kind", "target", "state", "att.", "error", "replay of")
    for m in tl.messages:
        r = m.row
        table.add_row(
            str(r.id),
            _fmt(r.created_at),
            r.kind,
            r.target or "—",
            r.state,
            str(r.attempts),
            f"{r.error_class}: {(r.error_message or '')[:60]}" if r.error_class else "",
            str(r.replay_of or ""),
        )
    console.print(table)
