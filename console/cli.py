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
from rich.table import Column, Table
from sqlalchemy import select

from console import history
from console.alerts import AlertSettings
from console.auth import Role, ThrottlePolicy, UserError, create_user, password_context, set_disabled, unlock_user
from console.formatting import local_time, status_label
from console.models import User
from console.queries import SearchFilter, find_dossiers, search, timeline
from console.runner import Background
from foundation import dates
from foundation.clock import vietnam_now
from foundation.settings import Environment, get_settings
from foundation.topology import Topology, configured
from foundation.vocabulary import Vocab, advice, choices, labelled
from hub.store.db import Database
from hub.store.models import MessageState

console = Console()
errors = Console(stderr=True)

users_app = typer.Typer(help="Người dùng bảng điều khiển: tạo, liệt kê, khóa, mở khóa (users).", no_args_is_help=True)
logs_app = typer.Typer(help="Tra cứu nhật ký liên thông (logs).", no_args_is_help=True)
dossier_app = typer.Typer(help="Mọi thông tin hệ thống có về một hồ sơ (dossier).", no_args_is_help=True)


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
    """Chạy bảng điều khiển quản trị (trang web, API JSON ở /api/v1; số liệu giám sát có mã hoặc ở --metrics-port)."""
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
    role: Annotated[Role, typer.Option(help=f"Vai trò: {choices(Vocab.ROLE, Role)}.")] = Role.VIEWER,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="12+ characters, not guessable.")
    ] = "",
) -> None:
    """Tạo người dùng (quản trị viên đầu tiên: `dvc-hub users create quantri --role admin`)."""
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
    console.print(f"Đã tạo người dùng {username}, vai trò {labelled(Vocab.ROLE, role)} (user created)")


@users_app.command("list")
def users_list() -> None:
    """Liệt kê người dùng bảng điều khiển (users list)."""
    table = Table("Tên đăng nhập", "Vai trò", "Đã khóa", "Đăng nhập gần nhất")
    with _db().session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            role = labelled(Vocab.ROLE, user.role)
            table.add_row(user.username, role, "✓" if user.disabled else "", _fmt(user.last_login_at))
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
    state: Annotated[
        MessageState | None, typer.Option(help=f"Trạng thái của thông điệp: {choices(Vocab.STATE, MessageState)}.")
    ] = None,
    error_class: Annotated[
        str | None,
        typer.Option(help=f"Loại lỗi (error class), ví dụ {labelled(Vocab.ERROR_CLASS, 'mapping_missing')}."),
    ] = None,
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
    """Tra cứu nhật ký liên thông, mới nhất trước (như GET /api/v1/messages)."""
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
    topology = _topology()
    if unit and topology is not None:
        topology.known_unit(unit)  # a typo is the operator's mistake, said in one line, not an empty table
    with _db().session() as session:
        page = search(session, flt, personal=False)  # the JSON lines may be pasted anywhere: no personal data
    if as_json:
        for row in page.rows:
            console.print_json(json.dumps(asdict(row), default=str, ensure_ascii=False))
    else:
        table = Table("Số", "Tạo lúc", "Hồ sơ", "Loại", "Đơn vị", "Đích", "Trạng thái", "Lần thử", "Lỗi")
        for r in page.rows:
            table.add_row(
                str(r.id),
                _fmt(r.created_at),
                r.dossier_code or "—",
                labelled(Vocab.KIND, r.kind),
                topology.unit_label(r.unit_code) if topology is not None else r.unit_code or "—",
                topology.system_title(r.target) if topology is not None else r.target or "—",
                labelled(Vocab.STATE, r.state),
                str(r.attempts),
                _error(r.error_class, r.error_message),
            )
        console.print(table)
    if page.next_before_id:
        console.print(f"Trang sau (next page): --before-id {page.next_before_id}")


def _topology() -> Topology | None:
    """The topology the hub runs on, when its file is in place (names for units and targets; codes without it)."""
    settings = get_settings()
    return configured(settings) if settings.topology_file.exists() else None


def _error(error_class: str | None, message: str | None) -> str:
    """An error as an operator reads it: its label and code, the message, and what to do."""
    if not error_class:
        return ""
    return f"{labelled(Vocab.ERROR_CLASS, error_class)}: {(message or '')[:60]} → {advice(error_class)}"


def search_dossiers(
    fragment: Annotated[
        str | None, typer.Argument(help="Một phần mã hồ sơ, chữ hoa hay thường (a code fragment).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị tiếp nhận (unit code).")] = None,
    procedure: Annotated[str | None, typer.Option(help="Mã thủ tục địa phương (local procedure code).")] = None,
    status: Annotated[int | None, typer.Option(help="Mã trạng thái hồ sơ, ví dụ 4 (Đang xử lý).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Số hồ sơ tối đa.")] = 50,
) -> None:
    """Tìm hồ sơ (search): mỗi hồ sơ một dòng, theo một phần mã hồ sơ, đơn vị, thủ tục hoặc trạng thái."""
    if not (fragment or unit or procedure or status is not None):
        raise typer.BadParameter("hãy cho một phần mã hồ sơ hoặc ít nhất một bộ lọc (--unit, --procedure, --status)")
    topology = _topology()
    if unit and topology is not None:
        topology.known_unit(unit)
    with _db().session() as session:
        found = find_dossiers(session, fragment, unit_code=unit, procedure_code=procedure, status=status, limit=limit)
        rows = [
            (
                d.code,
                topology.unit_label(d.receiving_unit) if topology is not None else d.receiving_unit,
                f"{d.data.get('procedure_name') or ''} ({d.local_procedure_code})".strip(),
                status_label(d.status, "vi"),
                _fmt(d.received_at),
                _fmt(d.appointment_at),
            )
            for d in found
        ]
    if not rows:
        console.print("Không tìm thấy hồ sơ nào khớp (no dossier matches).")
        return
    # a code is copied into `dossier show`: keep it whole
    table = Table(Column("Mã hồ sơ", no_wrap=True), "Đơn vị tiếp nhận", "Thủ tục", "Trạng thái", "Tiếp nhận", "Hẹn trả")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"{len(rows)} hồ sơ; xem chi tiết: dvc-hub dossier show MÃ_HỒ_SƠ", highlight=False)


@dossier_app.command("show")
def dossier_show(
    code: str,
    personal: Annotated[bool, typer.Option(help="Show personal data (operators only; you are on the server).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The whole timeline as JSON.")] = False,
) -> None:
    """Dòng thời gian của một hồ sơ: thông điệp, lần thử theo từng đích, và thay đổi giữa các phiên bản."""
    with _db().session() as session:
        tl = timeline(session, code, personal=personal)
    if tl is None:
        errors.print(f"Không tìm thấy hồ sơ {code} (dossier not found)")
        raise typer.Exit(1)
    if as_json:
        console.print_json(json.dumps(asdict(tl), default=str, ensure_ascii=False))
        return
    topology = _topology()
    if tl.dossier:
        d = tl.dossier
        unit = topology.unit_label(d["receiving_unit"]) if topology is not None else d["receiving_unit"]
        console.print(
            f"[bold]{code}[/bold] · {status_label(d['status'], 'vi')} · phiên bản {d['version']} · đơn vị {unit} · "
            f"thủ tục {d['local_procedure_code']} → {d['national_procedure_code'] or '—'}",
            highlight=False,
        )
        for step in history.steps(d["data"], "vi"):
            console.print(
                f"  Bước {step.number}. {step.content} · {step.officer} ({step.position}) · "
                f"{step.started} → {step.ended}, hạn {step.due} · {step.status}",
                highlight=False,
            )
    for v in tl.versions:
        console.print(f"  Phiên bản {v.version} · {status_label(v.status, 'vi')} · {_fmt(v.source_updated_at)}")
        for c in history.field_changes(v.changes, "vi")[:12]:
            console.print(f"    {c.label}: {c.old} → {c.new}", highlight=False)
    table = Table("Số", "Tạo lúc", "Loại", "Đích", "Trạng thái", "Lần thử", "Lỗi", "Chạy lại từ")
    for m in tl.messages:
        r = m.row
        table.add_row(
            str(r.id),
            _fmt(r.created_at),
            labelled(Vocab.KIND, r.kind),
            topology.system_title(r.target) if topology is not None else r.target or "—",
            labelled(Vocab.STATE, r.state),
            str(r.attempts),
            _error(r.error_class, r.error_message),
            str(r.replay_of or ""),
        )
    console.print(table)
