"""Alerts as stateful incidents: one incident per failing condition, opened once, updated, closed on recovery.

:func:`evaluate` looks at the integration log, opens an incident for each condition that newly holds, refreshes the
open ones that still hold and closes those that no longer hold; it is meant to run periodically (the console runs it
every minute). The webhook hears about an incident twice: when it opens and when it recovers — never once per
retry or per evaluation. A webhook that is down is tried again at the next evaluation until it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import requests
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from console.models import Incident
from console.queries import RECENT, targets_health
from foundation import logs
from foundation.clock import VN_TZ, utcnow
from hub.store.db import Database
from hub.store.models import Message, MessageState
from mappings.errors import MappingMissing
from schedules import control as schedules_control

log = logs.get_logger(__name__)
MAPPING_MISSING = MappingMissing.error_class


class IncidentKind(StrEnum):
    """Which condition an incident is about; each has its label in the vocabulary."""

    TARGET_FAILING = "target_failing"
    OLDEST_WAITING = "oldest_waiting"
    PROCEDURES_UNMAPPED = "procedures_unmapped"
    PARKED_RISING = "parked_rising"
    SCHEDULE_STALLED = "schedule_stalled"


class AlertSettings(BaseSettings):
    """Thresholds and the webhook, from ``DVC_HUB_ALERT_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="DVC_HUB_ALERT_", extra="ignore", frozen=True)

    webhook_url: str | None = Field(default=None, description="POSTed a JSON body when an incident opens or closes")
    webhook_timeout: float = Field(default=5.0, gt=0)
    failing_min_failures: int = Field(default=5, ge=1, description="failed messages in 15 minutes before alerting")
    failing_error_rate: float = Field(default=0.5, gt=0, le=1)
    oldest_waiting_minutes: int = Field(default=30, ge=1)
    parked_rising: int = Field(default=20, ge=1, description="messages parked in 15 minutes before alerting")
    schedule_grace_minutes: int = Field(default=10, ge=1, description="how late a job's next run may be")


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition that holds now; ``key`` names it across evaluations."""

    key: str
    kind: IncidentKind
    subject: str
    summary: str
    details: dict[str, Any]


@dataclass(slots=True)
class Evaluation:
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    notified: int = 0


def conditions(session: Session, settings: AlertSettings, now: datetime) -> list[Condition]:
    """Every alerting condition that holds at ``now``."""
    found: list[Condition] = []
    for t in targets_health(session, now=now, known=[], recent=RECENT):
        if t.recent_failed >= settings.failing_min_failures and t.error_rate >= settings.failing_error_rate:
            found.append(
                Condition(
                    key=f"target_failing:{t.target}",
                    kind=IncidentKind.TARGET_FAILING,
                    subject=t.target,
                    summary=(
                        f"Đích {t.target} đang lỗi: {t.recent_failed} thông điệp lỗi, tỷ lệ lỗi {t.error_rate:.0%} "
                        f"trong 15 phút (target {t.target} failing)"
                    ),
                    details={"failed": t.recent_failed, "succeeded": t.recent_ok, "error_rate": round(t.error_rate, 3)},
                )
            )
        limit = timedelta(minutes=settings.oldest_waiting_minutes)
        if not t.paused and t.oldest_waiting is not None and now - t.oldest_waiting > limit:
            minutes = int((now - t.oldest_waiting).total_seconds() // 60)
            found.append(
                Condition(
                    key=f"oldest_waiting:{t.target}",
                    kind=IncidentKind.OLDEST_WAITING,
                    subject=t.target,
                    summary=(
                        f"Thông điệp chờ lâu nhất đến {t.target} đã chờ {minutes} phút, tồn đọng {t.backlog} "
                        f"(oldest waiting message {minutes} min old)"
                    ),
                    details={"minutes": minutes, "backlog": t.backlog},
                )
            )
    parked = (
        session.scalar(
            select(func.count()).where(
                Message.state == MessageState.PARKED.value,
                Message.updated_at >= now - RECENT,
                # unmapped procedures have an incident of their own, which says what to fix
                or_(Message.error_class.is_(None), Message.error_class != MAPPING_MISSING),
            )
        )
        or 0
    )
    unmapped = session.execute(
        select(func.count(distinct(Message.dossier_code)), func.count(distinct(Message.procedure_code))).where(
            Message.state == MessageState.PARKED.value, Message.error_class == MAPPING_MISSING
        )
    ).one()
    if unmapped[0]:
        dossiers, procedures = int(unmapped[0]), int(unmapped[1])
        found.append(
            Condition(
                key="procedures_unmapped",
                kind=IncidentKind.PROCEDURES_UNMAPPED,
                subject="procedures",
                summary=(
                    f"{dossiers} hồ sơ chưa gửi được vì {procedures} thủ tục chưa có mã TTHC quốc gia: ánh xạ ở trang "
                    f"Thủ tục (/mappings), các hồ sơ sẽ được gửi lại ({dossiers} dossiers not sent: {procedures} "
                    "procedures have no national code; map them and they are sent again)"
                ),
                details={"dossiers": dossiers, "procedures": procedures, "fix": "/mappings"},
            )
        )
    if parked >= settings.parked_rising:
        found.append(
            Condition(
                key="parked_rising",
                kind=IncidentKind.PARKED_RISING,
                subject="messages",
                summary=f"{parked} thông điệp bị dừng trong 15 phút qua ({parked} messages parked in 15 minutes)",
                details={"parked": parked},
            )
        )
    grace = timedelta(minutes=settings.schedule_grace_minutes)
    for job in schedules_control.jobs_in(session):
        if not job.paused and job.next_run_at is not None and now - job.next_run_at > grace:
            late = int((now - job.next_run_at).total_seconds() // 60)
            found.append(
                Condition(
                    key=f"schedule_stalled:{job.job_id}",
                    kind=IncidentKind.SCHEDULE_STALLED,
                    subject=job.job_id,
                    summary=f"Lịch {job.job_id} không chạy, trễ {late} phút (schedule not running, {late} min late)",
                    details={"minutes_late": late, "next_run_at": job.next_run_at.isoformat()},
                )
            )
    return found


def evaluate(
    db: Database, settings: AlertSettings, *, now: datetime | None = None, http: requests.Session | None = None
) -> Evaluation:
    """Open, update and close incidents from the conditions holding now, then tell the webhook what changed."""
    now = now or utcnow()
    result = Evaluation()
    with db.session() as session:
        holding = {c.key: c for c in conditions(session, settings, now)}
        open_ = {i.key: i for i in session.scalars(select(Incident).where(Incident.state == "open"))}
        for key, cond in holding.items():
            incident = open_.get(key)
            if incident is None:
                session.add(
                    Incident(
                        key=key,
                        kind=cond.kind,
                        subject=cond.subject,
                        state="open",
                        summary=cond.summary,
                        details=cond.details,
                        opened_at=now,
                        updated_at=now,
                        evaluations=1,
                    )
                )
                result.opened.append(key)
            else:
                incident.summary = cond.summary
                incident.details = cond.details
                incident.updated_at = now
                incident.evaluations += 1
                result.updated.append(key)
        for key, incident in open_.items():
            if key not in holding:
                incident.state = "closed"
                incident.closed_at = now
                incident.updated_at = now
                result.closed.append(key)
    result.notified = notify_pending(db, settings, http=http)
    if result.opened or result.closed:
        log.info("alerts evaluated", opened=result.opened, closed=result.closed)
    return result


def _message(incident: Incident) -> dict[str, Any]:
    recovered = incident.state == "closed"
    opened = incident.opened_at.astimezone(VN_TZ)
    if recovered:
        text = (
            f"✅ ĐÃ KHÔI PHỤC: {incident.summary} — mở lúc {opened:%H:%M %d/%m}, "
            f"đóng lúc {incident.closed_at.astimezone(VN_TZ) if incident.closed_at else opened:%H:%M %d/%m} (recovered)"
        )
    else:
        text = f"🚨 CẢNH BÁO: {incident.summary} — từ {opened:%H:%M %d/%m} (alert opened)"
    return {
        "event": "resolved" if recovered else "opened",
        "text": text,
        "incident": {
            "id": incident.id,
            "key": incident.key,
            "kind": incident.kind,
            "subject": incident.subject,
            "state": incident.state,
            "summary": incident.summary,
            "details": incident.details,
            "opened_at": incident.opened_at.isoformat(),
            "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        },
    }


def notify_pending(db: Database, settings: AlertSettings, *, http: requests.Session | None = None) -> int:
    """Send every incident change the webhook has not yet accepted; returns how many it accepted."""
    if not settings.webhook_url:
        return 0
    with db.session() as session:
        pending = list(
            session.scalars(
                select(Incident)
                .where((Incident.notified.is_(None)) | (Incident.notified != Incident.state))
                .order_by(Incident.id)
                .limit(100)
            )
        )
    sent = 0
    client = http or requests.Session()
    for incident in pending:
        try:
            response = client.post(settings.webhook_url, json=_message(incident), timeout=settings.webhook_timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            # The webhook is down: keep the change pending; the next evaluation sends it.
            log.warning("alert webhook failed", incident=incident.key, error=str(exc))
            break
        with db.session() as session:
            row = session.get(Incident, incident.id)
            if row is not None:
                row.notified = incident.state
        sent += 1
    return sent
