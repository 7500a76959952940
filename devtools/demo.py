"""``make demo``: a day of Quảng Nam traffic through the hub on the embedded default, with faults.

The province runs one-stop-shop software from several vendors (``config/topologies/quang-nam-2023-three-vendors.yaml``):
the default contract's SOAP service, Phương Nam's SOAP service, Bạch Đằng's JSON API and Thu Bồn's ASMX service, each
read through its vendor profile alone. Every simulator runs in this process on free ports; the hub runs on SQLite
with the in-process broker and worker threads. The demo plays simulated hours, polls every unit after each, shows live
progress, then does what an administrator would after an incident — map the procedures that were missing, replay
what was parked — and ends with a reconciliation of every unit: dossiers at the source, at the national portal, at the
other levels, missing, mismatched, parked and why, and the month's indicators with the path of its Excel workbook.

A topology with a merger (``da-nang-2025``: Quảng Nam's units served until 30 June 2025, then merged into Đà Nẵng's)
is played across it: four weeks of June traffic at the old units, then the day runs over midnight into 1 July, when
the old units' dossiers move to the successor's system, which updates them from then on. Its indicators count the
merged communes' dossiers for their successors.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from sqlalchemy import func, select

from foundation import logs
from foundation.clock import VN_TZ, vietnam_now
from foundation.settings import PROJECT_ROOT, Settings
from foundation.topology import Topology, Unit, load
from hub import procedures, replay
from hub.context import HubContext
from hub.store.db import Database
from hub.store.models import Message, MessageState
from hub.sync import request_poll
from hub.worker import embedded_workers
from migrations import upgrade
from reports.cli import summary_table
from reports.labels import number
from reports.rules import load_rules
from reports.service import LateReport, Reports
from reports.workbook import write_monthly
from simulators.server import Simulators

IN_FLIGHT = [s.value for s in MessageState if s.in_flight]
DEMO_DIR = PROJECT_ROOT / "var" / "demo"
DEMO_TOPOLOGY = PROJECT_ROOT / "config" / "topologies" / "quang-nam-2023-three-vendors.yaml"
# The simulators' default credentials, for the demo only; production reads them from the environment or files.
DEMO_CREDENTIALS = {
    ref: ("hub", "hub-secret")
    for ref in (
        "MOTCUA_QUANGNAM",
        "MOTCUA_TAMKY",
        "MOTCUA_HOIAN",
        "MOTCUA_DANANG",
        "MOTCUA_DIENBAN",
        "MOTCUA_THANGBINH",
        "DVCQG",
    )
}
TOPOLOGIES = PROJECT_ROOT / "config" / "topologies"
# What goes wrong during the demo's day: a flaky portal, a slow and occasionally failing one-stop-shop, a feed
# that repeats and reorders entries. Faults are switched off for the catch-up after the day.
DEMO_FAULTS: dict[str, dict[str, float | int]] = {
    "dvcqg": {"error_rate": 0.05, "error_status": 503, "rate_limit_rate": 0.02, "retry_after": 1},
    "dvcqg:DongBoHoSoMC": {"error_in_200_rate": 0.01},
    "soap:LayChiTietHoSo": {"soap_fault_rate": 0.03, "latency_ms": 2, "latency_jitter_ms": 2},
    "soap:LayDanhSachHoSoThayDoi": {"feed_duplicate_rate": 0.2, "feed_shuffle_rate": 0.2},
    "phuongnam:LayHoSo": {"soap_fault_rate": 0.03},
    # an ASMX server fault with an empty <detail />, which no profile list names: retried by the table
    "thubon:GetDossier": {"soap_fault_rate": 0.03},
    "truongson": {"rate_limit_rate": 0.02, "retry_after": 1},  # the REST platform throttles: 429 with Retry-After
    # Not errors: a failed window restarts the whole poll from the watermark, which empty windows do not move.
    "bachdang": {"latency_ms": 2, "latency_jitter_ms": 2},
}
UNMAPPED = 3  # procedures left without a national code, to show parking, fixing and replaying
BEFORE_MERGER = timedelta(days=27)  # the backlog's span at the old units, before the day that crosses the merger


@dataclass
class UnitLine:
    """One row of the reconciliation table: a receiving unit (a merged one keeps its own row)."""

    code: str
    name: str
    level: str
    vendor: str = ""
    at_source: int = 0
    at_portal: int = 0
    missing: int = 0
    mismatched: int = 0
    liên_thông: int = 0
    levels_mismatched: int = 0
    parked: Counter[str] = field(default_factory=Counter)


def run(
    console: Console,
    *,
    hours: int = 24,
    backlog: int = 300,
    seed: int = 2023,
    faults: bool = True,
    topology_name: str | None = None,
    directory: Path = DEMO_DIR,
) -> int:
    """Play the demo; returns the process exit code (non-zero when anything is missing or mismatched).

    ``topology_name``: a file of ``config/topologies`` without ``.yaml`` (``da-nang-2025``); the three-vendor
    Quảng Nam 2023 by default. ``directory``: where the database, topology and workbook go (emptied first);
    ``var/demo`` by default.
    """
    logs.configure("ERROR", "console")  # the live table is the demo's output; errors still show
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for ref, (username, password) in DEMO_CREDENTIALS.items():
        os.environ.setdefault(f"DVC_HUB_CRED_{ref}_USERNAME", username)
        os.environ.setdefault(f"DVC_HUB_CRED_{ref}_PASSWORD", password)

    chosen = load(TOPOLOGIES / f"{topology_name}.yaml" if topology_name else DEMO_TOPOLOGY)
    console.rule(f"[bold]dvc-hub demo[/bold] — {chosen.name}")
    merger = _merger_day(chosen)
    if merger is None:
        sims = Simulators(chosen, seed=seed, dossiers=backlog)
    else:  # June's backlog at the old units, then a day that runs over midnight into the merger
        day_start = datetime.combine(merger, day_time.min, tzinfo=VN_TZ) - timedelta(hours=hours // 2)
        sims = Simulators(chosen, seed=seed, start=day_start - BEFORE_MERGER)
        sims.lifecycle.populate(backlog, days=BEFORE_MERGER / timedelta(days=1))
    started = sims.now()
    with sims:
        topology_file = sims.topology_file(directory / "topology.yaml")
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite:///{directory / 'hub.sqlite3'}",
            broker_url="memory://",
            topology_file=topology_file,
            retry_min_backoff_ms=200,
            retry_max_backoff_ms=3000,
            retry_max_attempts=10,
            reconcile_after_seconds=30,
            log_level="WARNING",
        )
        upgrade(settings.database_url)
        ctx = HubContext.from_settings(settings)
        unmapped = _load_procedure_mappings(ctx.db, sims.catalogue.procedures)
        console.print(
            f"Simulators: one-stop-shops {sims.soap_url}, {sims.vendor_url('phuongnam')} (SOAP), "
            f"{sims.vendor_url('bachdang')} (JSON), {sims.vendor_url('thubon')} (ASMX), "
            f"{sims.vendor_url('truongson')} (REST, OAuth2); portal {sims.portal_url}. "
            f"Database {directory / 'hub.sqlite3'}.\n"
            f"{len(sims.catalogue.procedures) - len(unmapped)} procedure codes mapped to national codes; "
            f"{len(unmapped)} left unmapped on purpose: {', '.join(unmapped)}."
        )
        with embedded_workers(ctx, threads=8):
            if faults:
                for endpoint, spec in DEMO_FAULTS.items():
                    sims.set_fault(endpoint, **spec)
                console.print("Faults on: " + "; ".join(f"{k} {v}" for k, v in DEMO_FAULTS.items()))
            with Live(console=console, refresh_per_second=4) as live:
                for hour in range(hours):
                    report = sims.advance(1)
                    if report.moved:
                        live.console.print(
                            f"{sims.now():%d/%m/%Y %H:%M}: sáp nhập (merger) — {report.moved} hồ sơ của các đơn vị "
                            "cũ chuyển sang hệ thống của đơn vị kế thừa (moved to the successors' system)"
                        )
                    for system, code in _served(ctx.topology, sims.now().date()):
                        request_poll(ctx.db, system, code, reason="demo")
                    _wait(ctx.db, until_below=200, timeout=10)
                    live.update(_progress(ctx.db, sims, f"giờ {hour + 1}/{hours}, +{report.created} hồ sơ mới"))
                sims.clear_faults()
                for system, code in _served(ctx.topology, sims.now().date()):  # catch-up poll with faults off
                    request_poll(ctx.db, str(system), code, reason="demo catch-up")
                _wait(ctx.db, until_below=1, timeout=180)
                live.update(_progress(ctx.db, sims, "hết ngày, đã đồng bộ (day done)"))
            console.print(_parked_table(ctx.db, "Parked after the day (before the fix)"))
            _fix_and_replay(console, ctx.db, sims.catalogue.procedures, unmapped)
            _wait(ctx.db, until_below=1, timeout=120)
        lines = _reconcile(ctx, sims)
        _indicators(console, ctx, started, directory)
        ctx.close()
    return _report(console, lines)


def _merger_day(topology: Topology) -> date | None:
    """The first day after units served by a system were merged into their successors, if the topology has one."""
    days = [u.valid_to + timedelta(days=1) for u in topology.units if u.system and u.successor]
    return min(days) if days else None


def _served(topology: Topology, day: date) -> list[tuple[str, str]]:
    """(system, unit) of every unit a one-stop-shop serves on ``day``: the old units before a merger, the new after."""
    return [(u.system, u.code) for u in topology.active_units(day) if u.system]


def _indicators(console: Console, ctx: HubContext, started: datetime, directory: Path) -> None:
    """The month's indicator summary and its workbook, and the late register of every month the demo played, as
    ``dvc-hub report`` and the console compute them on this database: each judged at the same "as of" moment (how
    far the hub has seen the simulated world, not the wall clock), which the summary states."""
    now = vietnam_now()
    source = Reports(ctx.db, ctx.topology, load_rules())
    month = source.current_period(now)
    indicators = source.indicators(month, now)
    late = source.late(month, now)
    path = write_monthly(
        directory / f"bao-cao-{month.label}.xlsx",
        province=ctx.topology.name,
        period=month,
        indicators=indicators,
        late=late,
        now=now,
        scores=source.scores(month, now),
    )
    console.print(summary_table(indicators))
    months = [month]
    while months[0].start > started.date():
        months.insert(0, months[0].previous())
    for period in months:
        console.print(_late_line(late if period is month else source.late(period, now)))
    console.print(f"Báo cáo tháng (monthly workbook): {path}")


def _late_line(report: LateReport) -> str:
    rows = report.rows
    apologised = sum(r.apologised for r in rows)
    breaches = sum(r.late_without_apology or r.apology_after_deadline for r in rows)
    return (
        f"{report.period}: {number(len(rows))} hồ sơ trễ hạn (late) {report.as_of_text}, {number(apologised)} có văn "
        f"bản xin lỗi và hẹn lại (apologised, extended), {number(breaches)} vi phạm về xin lỗi (apology breaches)."
    )


def _load_procedure_mappings(db: Database, catalogue: tuple[object, ...]) -> list[str]:
    """Map every catalogue procedure but a few commune ones, as a province that has not finished its table."""
    skipped = [p.local_code for p in catalogue if p.level == "commune"][:UNMAPPED]  # type: ignore[attr-defined]
    rows = ["local_code,national_code,procedure_name,field_code,field_name"]
    for p in catalogue:
        if p.local_code not in skipped:  # type: ignore[attr-defined]
            rows.append(f'{p.local_code},{p.national_code},"{p.name}",{p.field_code},"{p.field_name}"')  # type: ignore[attr-defined]
    procedures.import_csv(db, "\n".join(rows) + "\n", user="demo")
    return skipped


def _fix_and_replay(console: Console, db: Database, catalogue: tuple[object, ...], unmapped: list[str]) -> None:
    console.print(
        "\n[bold]Quản trị viên sửa lỗi (the administrator fixes):[/bold] maps the missing national procedure codes, "
        "then replays everything parked."
    )
    by_code = {p.local_code: p for p in catalogue}  # type: ignore[attr-defined]
    for code in unmapped:
        p = by_code[code]
        procedures.set_mapping(db, code, p.national_code, procedure_name=p.name, user="demo-admin")  # type: ignore[attr-defined]
    flt = replay.ReplayFilter()
    total = replay.count(db, flt)
    console.print(f"Dry run: {total} parked messages match.")
    if total:
        job = replay.create_job(db, flt, user="demo-admin")
        replay.start_job(db, job, user="demo-admin")
        result = replay.run_job(db, job, batch=200)
        console.print(f"Replay job {job}: {result['state']}, {result['done']}/{result['total']} replayed.")


def _wait(db: Database, *, until_below: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _count(db, IN_FLIGHT) < until_below:
            return
        time.sleep(0.2)


def _count(db: Database, states: list[str]) -> int:
    with db.session() as session:
        return int(
            session.execute(select(func.count()).select_from(Message).where(Message.state.in_(states))).scalar_one()
        )


def _progress(db: Database, sims: object, label: str) -> Group:
    with db.session() as session:
        rows = session.execute(select(Message.kind, Message.state, func.count()).group_by(Message.kind, Message.state))
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for kind, state, n in rows:
            counts[kind][state] += n
    table = Table(title=f"{label} — {sims.now():%d/%m/%Y %H:%M} (simulated)")  # type: ignore[attr-defined]
    states = ["succeeded", "skipped", "queued", "retrying", "held", "parked", "replayed"]
    table.add_column("message")
    for state in states:
        table.add_column(state, justify="right")
    for kind in ("poll", "sync", "deliver"):
        table.add_row(kind, *(str(counts[kind][s]) for s in states))
    portal = len(sims.portal_dossiers())  # type: ignore[attr-defined]
    source = len(sims.source_state())  # type: ignore[attr-defined]
    return Group(table, f"Dossiers at the source: {source}   at the national portal: {portal}\n")


def _parked_table(db: Database, title: str) -> Table:
    table = Table(title=title)
    for column in ("target", "error class", "messages", "example"):
        table.add_column(column)
    with db.session() as session:
        rows = session.execute(
            select(Message.target, Message.error_class, func.count(), func.max(Message.error_message))
            .where(Message.state == MessageState.PARKED.value)
            .group_by(Message.target, Message.error_class)
        ).all()
    for target, error_class, n, example in rows:
        table.add_row(str(target), str(error_class), str(n), (example or "")[:110])
    if not rows:
        table.add_row("—", "—", "0", "")
    return table


def _reconcile(ctx: HubContext, sims: object) -> dict[str, UnitLine]:
    source = sims.source_state()  # type: ignore[attr-defined]
    portal = sims.portal_dossiers()  # type: ignore[attr-defined]
    today = sims.now().date()  # type: ignore[attr-defined]
    lines: dict[str, UnitLine] = {}  # by receiving unit: a merged unit has its own row (its code may be reused)

    def line_of(unit: Unit) -> UnitLine:
        """The row of a receiving unit, made on first use."""
        key = f"{unit.code}@{unit.valid_from}"
        if key not in lines:
            lines[key] = UnitLine(unit.code, unit.name, unit.level.value, _vendor(ctx.topology, unit.system))
        return lines[key]

    for unit in ctx.topology.active_units(today):
        line_of(unit)
    for code, record in source.items():
        sent = record.NgayNop or record.NgayTiepNhan  # when it reached the unit that keeps it
        line = line_of(ctx.topology.unit(record.MaDonViTiepNhan, sent.date() if sent else today))
        line.at_source += 1
        at_portal = portal.get(code)
        if at_portal is None:
            line.missing += 1
            continue
        line.at_portal += 1
        if str(at_portal.get("TrangThaiHoSo")) != str(record.TrangThai):
            line.mismatched += 1
        if record.MaDonViXuLy and record.MaDonViXuLy != record.MaDonViTiepNhan:
            line.liên_thông += 1
            receiver = sims.source_copy(record.MaDonViTiepNhan, code)  # type: ignore[attr-defined]
            if receiver.TrangThai != record.TrangThai:
                line.levels_mismatched += 1
    with ctx.db.session() as session:
        parked = session.execute(
            select(Message.unit_code, Message.error_class, func.count())
            .where(Message.state == MessageState.PARKED.value)
            .group_by(Message.unit_code, Message.error_class)
        ).all()
    for unit_code, error_class, n in parked:  # by code: the row of the unit in force today, else the merged one's
        rows = [line for line in lines.values() if line.code == unit_code]
        if rows:
            rows[0].parked[str(error_class)] += n
    order = {f"{u.code}@{u.valid_from}": i for i, u in enumerate(ctx.topology.units)}
    return dict(sorted(lines.items(), key=lambda item: order.get(item[0], len(order))))


def _vendor(topology: Topology, system_name: str | None) -> str:
    """The vendor profile a unit's one-stop-shop is read through, and the system kind that reads it."""
    if system_name is None:
        return "—"
    system = topology.systems[system_name]
    return f"{system.options.get('vendor', 'default')} ({system.kind})"


def _report(console: Console, lines: dict[str, UnitLine]) -> int:
    table = Table(title="Đối soát (reconciliation): source vs national portal vs other levels")
    for column in (
        "unit",
        "level",
        "vendor",
        "at source",
        "at portal",
        "missing",
        "mismatched",
        "liên thông",
        "levels ≠",
        "parked",
    ):
        table.add_column(column, justify="left" if column in ("unit", "level", "vendor", "parked") else "right")
    total = UnitLine("", "Tổng (total)", "")
    for line in lines.values():
        parked = ", ".join(f"{k}: {v}" for k, v in line.parked.items()) or "0"
        table.add_row(
            f"{line.code} {line.name}", line.level, line.vendor, str(line.at_source), str(line.at_portal),
            str(line.missing), str(line.mismatched), str(line.liên_thông), str(line.levels_mismatched), parked,
        )  # fmt: skip
        total.at_source += line.at_source
        total.at_portal += line.at_portal
        total.missing += line.missing
        total.mismatched += line.mismatched
        total.liên_thông += line.liên_thông
        total.levels_mismatched += line.levels_mismatched
        total.parked.update(line.parked)
    table.add_row(
        total.name, "", "", str(total.at_source), str(total.at_portal), str(total.missing), str(total.mismatched),
        str(total.liên_thông), str(total.levels_mismatched), str(sum(total.parked.values())), style="bold",
    )  # fmt: skip
    console.print(table)
    by_vendor: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for line in lines.values():
        counts = by_vendor[line.vendor]
        counts[0] += line.at_source
        counts[1] += line.at_portal
        counts[2] += line.missing
        counts[3] += line.mismatched
    console.print(
        "By vendor (at source / at portal / missing / mismatched): "
        + "; ".join(f"{v}: {c[0]}/{c[1]}/{c[2]}/{c[3]}" for v, c in sorted(by_vendor.items()) if v != "—")
    )
    ok = total.missing == 0 and total.mismatched == 0 and total.levels_mismatched == 0
    verdict = "[green]OK[/green]" if ok else "[red]NOT OK[/red]"
    console.print(
        f"{verdict}: {total.missing} missing, {total.mismatched} mismatched at the portal, "
        f"{total.levels_mismatched} mismatched between levels, {sum(total.parked.values())} parked."
    )
    console.print(
        "\nThe demo's database stays in var/demo/hub.sqlite3. To look at it in the admin console:\n"
        "  export DVC_HUB_DATABASE_URL=sqlite:///$PWD/var/demo/hub.sqlite3\n"
        "  dvc-hub users create admin --role admin     # then\n"
        "  dvc-hub admin                                # and open http://127.0.0.1:8700"
    )
    return 0 if ok else 1
