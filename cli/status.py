"""``dvc-hub status``: the hub at a glance for an operator's morning — services, queues, targets, what is parked and
why, each unit's lag and the schedules' last ticks — in Vietnamese, units and targets by name."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from cli.doctor import _broker, _schema
from console.formatting import duration, local_time
from console.queries import dashboard
from foundation import vocabulary
from foundation.settings import get_settings
from foundation.topology import Topology, configured
from foundation.vocabulary import Vocab, advice, labelled
from hub.store.db import Database
from hub.store.models import Message, MessageState

console = Console()

_IN_FLIGHT = (MessageState.QUEUED.value, MessageState.RUNNING.value, MessageState.RETRYING.value)


def status() -> None:
    """Tình trạng hệ thống (status): dịch vụ, hàng đợi, đích nhận, hồ sơ bị dừng theo nguyên nhân, độ trễ từng đơn
    vị và lần chạy gần nhất của các lịch."""
    settings = get_settings()
    topology: Topology | None = configured(settings) if settings.topology_file.exists() else None
    db = Database(settings.database_url)
    try:
        services = Table("Dịch vụ", "Tình trạng", "Chi tiết", title="Dịch vụ")
        for check in (_schema(db), _broker(settings)):
            name = {"database": "Cơ sở dữ liệu (database)", "broker": "Hàng đợi (broker)"}.get(check.name, check.name)
            services.add_row(name, "✓ hoạt động" if check.ok else "✗ có lỗi", check.detail)
        console.print(services)
        with db.session() as session:
            data = dashboard(session, topology=topology)
            waiting = Counter(
                {
                    (kind, state): n
                    for kind, state, n in session.execute(
                        select(Message.kind, Message.state, func.count())
                        .where(Message.state.in_(_IN_FLIGHT))
                        .group_by(Message.kind, Message.state)
                    )
                }
            )
    finally:
        db.dispose()

    def system(name: str) -> str:
        return topology.system_title(name) if topology is not None else name

    def unit(code: str) -> str:
        return topology.unit_label(code) if topology is not None else code

    queues = Table("Loại", "Chờ xử lý", "Đang xử lý", "Đang thử lại", title="Hàng đợi thông điệp")
    for kind in sorted({k for k, _ in waiting}):
        queues.add_row(labelled(Vocab.KIND, kind), *(vocabulary.number(waiting[kind, s]) for s in _IN_FLIGHT))
    console.print(queues if waiting else "Hàng đợi thông điệp: không có thông điệp nào đang chờ.")

    targets = Table("Đích", "Tồn đọng", "Bị dừng", "Tỷ lệ lỗi 15 phút", "Cầu dao", "Thành công gần nhất", title="Đích")
    for h in data.targets:
        targets.add_row(
            system(h.target) + (" (đang tạm dừng)" if h.paused else ""),
            vocabulary.number(h.backlog),
            vocabulary.number(h.parked),
            vocabulary.percent(h.error_rate),
            labelled(Vocab.CIRCUIT, h.circuit),
            local_time(h.last_success),
        )
    console.print(targets)

    parked = Table("Nguyên nhân", "Đích", "Số thông điệp", "Cần làm", title="Bị dừng chờ xử lý theo nguyên nhân")
    for error_class, target, count in data.parked_by_error:
        cause = labelled(Vocab.ERROR_CLASS, error_class)
        parked.add_row(cause, system(target), vocabulary.number(count), advice(error_class))
    console.print(parked if data.parked_by_error else "Không có thông điệp nào bị dừng chờ xử lý.")

    lags = Table("Đơn vị", "Cấp", "Độ trễ", "Đồng bộ đến", title="Độ trễ đồng bộ theo đơn vị")
    for lag in sorted(data.lags, key=lambda item: -item.lag_seconds):
        lags.add_row(
            unit(lag.unit_code),
            labelled(Vocab.LEVEL, lag.level) if lag.level else "—",
            duration(lag.lag_seconds),
            local_time(lag.watermark),
        )
    console.print(lags if data.lags else "Chưa đơn vị nào được đồng bộ.")

    ticks = Table("Công việc", "Mã", "Lần chạy gần nhất", "Kết quả", "Lần chạy tới", title="Lịch chạy")
    for job in data.schedules:
        kind, _, rest = job.job_id.partition(":")
        what = vocabulary.label(Vocab.SCHEDULE_KIND, rest if kind == "daily" else kind)
        ticks.add_row(
            what + (" (đang tạm dừng)" if job.paused else ""),
            job.job_id,
            local_time(job.last_run_at),
            (job.last_outcome or "—")[:60],
            local_time(job.next_run_at),
        )
    console.print(ticks if data.schedules else "Chưa có lịch chạy nào (dvc-hub scheduler chưa chạy lần nào).")
    for incident in data.incidents:
        console.print(f"⚠ {labelled(Vocab.INCIDENT, incident.kind)}: {incident.summary}", highlight=False)
