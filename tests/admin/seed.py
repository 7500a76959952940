"""A small, realistic integration log for console tests: dossiers with versions, deliveries, a parked one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.auth import Role, create_user
from foundation.clock import utcnow
from foundation.redaction import redact_model
from hub.store.db import Database
from hub.store.models import (
    Attempt,
    Dossier,
    DossierVersion,
    Message,
    MessageState,
    Watermark,
)
from mappings.canonical import Dossier as CanonicalDossier
from reports.models import LateDossier
from schedules.models import ScheduleJob

PASSWORD = "mật-khẩu-thử-nghiệm"
CODE = "000.01.17.H47-240304-0001"
PARKED_CODE = "000.01.17.H47-240304-0002"
APPLICANT = "Nguyễn Văn An"
ID_NUMBER = "049088001234"


@dataclass(frozen=True)
class Seeded:
    ok_message: int
    parked_message: int


def dossier_data(code: str, status: int) -> dict[str, Any]:
    """Canonical dossier data with the applicant's personal fields, as the hub stores it."""
    return {
        "code": code,
        "national_procedure_code": "1.001193",
        "status": status,
        "summary": "Đăng ký khai sinh cho con",
        "applicant": {
            "name": APPLICANT,
            "id_number": ID_NUMBER,
            "kind": 1,
            "email": "an.nguyen@example.vn",
            "phone": "0905123456",
            "address": "Thôn 1, Tam Quang, Núi Thành",
        },
    }


def users(db: Database) -> None:
    with db.session() as session:
        create_user(session, "admin", PASSWORD, Role.ADMIN)
        create_user(session, "operator", PASSWORD, Role.OPERATOR)
        create_user(session, "viewer", PASSWORD, Role.VIEWER)


def log(db: Database, *, now: datetime | None = None) -> Seeded:
    """Two dossiers: one delivered after a retry, one parked by the portal; plus watermarks, late dossiers, jobs."""
    now = now or utcnow()
    with db.session() as session:
        for code, status in ((CODE, 4), (PARKED_CODE, 2)):
            v1, v2 = dossier_data(code, 2), dossier_data(code, status)
            v2 = {**v2, "summary": v2["summary"] + " (bổ sung)"} if code == CODE else v2
            session.add(
                Dossier(
                    code=code,
                    receiving_unit="20965",
                    local_procedure_code="NT-HT-001",
                    national_procedure_code="1.001193",
                    status=status,
                    version=2,
                    content_hash=f"seed-{code}",
                    source_updated_at=now - timedelta(minutes=30),
                    received_at=now - timedelta(days=1),
                    appointment_at=now + timedelta(days=2),
                    data=v2,
                )
            )
            for version, data in ((1, v1), (2, v2)):
                session.add(
                    DossierVersion(
                        dossier_code=code,
                        version=version,
                        status=data["status"],
                        source_updated_at=now - timedelta(minutes=60 - version * 10),
                        data=data,
                    )
                )
        ok = _delivery(session, CODE, now - timedelta(minutes=20), MessageState.SUCCEEDED, None)
        parked = _delivery(session, PARKED_CODE, now - timedelta(minutes=10), MessageState.PARKED, "remote_rejected")
        session.add(Watermark(system="motcua-quangnam", unit_code="20965", value=now - timedelta(minutes=3)))
        session.add(Watermark(system="motcua-quangnam", unit_code="517", value=now - timedelta(hours=5)))
        session.add(
            LateDossier(
                dossier_code="000.00.17.H47-240201-0042",
                unit_code="517",
                procedure_code="NT-DD-042",
                status=4,
                appointment_on=(now - timedelta(days=4)).date(),
                days_late=4,
            )
        )
        session.add(
            ScheduleJob(job_id="poll:motcua-quangnam:20965", next_run_at=now + timedelta(minutes=1), last_run_at=now)
        )
        session.flush()
        return Seeded(ok_message=ok, parked_message=parked)


def _delivery(session: Any, code: str, at: datetime, state: MessageState, error: str | None) -> int:
    payload = {"dossier_code": code, "version": 2, "target": "dvcqg", "record": dossier_data(code, 2)}
    message = Message(
        kind="deliver",
        actor="deliver_dossier",
        queue="deliver",
        state=state.value,
        dossier_code=code,
        dossier_version=2,
        unit_code="20965",
        procedure_code="NT-HT-001",
        source="motcua-quangnam:20965",
        target="dvcqg",
        attempts=2,
        error_class=error,
        error_message=f"Cổng DVCQG từ chối hồ sơ {code} (portal refused)" if error else None,
        remote_message=f"Hồ sơ của {APPLICANT} không hợp lệ" if error else None,
        payload=payload,
        payload_redacted={**payload, "record": redact_model(payload["record"], CanonicalDossier)},
        created_at=at,
        updated_at=at + timedelta(seconds=5),
    )
    session.add(message)
    session.flush()
    request = {"MaHoSo": code, "ChuHoSo": APPLICANT, "SoGiayToChuHoSo": ID_NUMBER}
    response = {"error_code": "-1" if error else "0", "message": "ok" if not error else f"{APPLICANT}: lỗi"}
    for number, outcome in ((1, "retrying"), (2, "parked" if error else "succeeded")):
        session.add(
            Attempt(
                message_id=message.id,
                number=number,
                outcome=outcome,
                started_at=at + timedelta(seconds=number),
                finished_at=at + timedelta(seconds=number, milliseconds=300),
                duration_ms=300.0,
                error_class=error if outcome == "parked" else ("remote_unavailable" if outcome == "retrying" else None),
                request=request,
                response=response,
                request_redacted={"MaHoSo": code, "ChuHoSo": "***", "SoGiayToChuHoSo": "***"},
                response_redacted={"error_code": response["error_code"], "message": "***"},
            )
        )
    return message.id
