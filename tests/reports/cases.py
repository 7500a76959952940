"""Small fixed sets of dossiers whose every outcome is known, for the register and indicator tests.

Each case names what it is there to break: early, on time, late finished, late open, extended in time, extended
after the deadline, appointment moved without apology, online/offline, paid online, digitised, and dossiers outside
the period. ``QUANG_NAM`` plays October 2023 on the three-level topology; ``DA_NANG`` plays July 2025 across the
merger on the two-level one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from foundation.clock import VN_TZ
from hub.store.db import Database
from hub.store.models import Delivery, DossierVersion, Message, MessageState
from hub.store.models import Dossier as DossierRow
from mappings.canonical import Dossier
from mappings.codes import Channel, Status
from reports.register import Facts

ONLINE, IN_PERSON = Channel.ONLINE, Channel.IN_PERSON
AGENCIES = {
    "49": "000.00.00.H47",
    "517": "000.00.17.H47",
    "20965": "000.01.17.H47",
    "20968": "000.02.17.H47",
    "20971": "000.03.17.H47",
    "20998": "000.13.17.H47",
    "48": "000.00.00.H48",
    "20965@2025": "000.00.61.H48",
    "20971@2025": "000.00.62.H48",
}


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=VN_TZ)


@dataclass(frozen=True)
class Case:
    """One dossier of a fixed set, with the hub-side facts the store would give."""

    name: str
    unit: str
    received: date
    appointment: date | None
    status: Status
    channel: Channel
    procedure: str
    level: int | None = 4
    finished: date | None = None
    first_appointment: date | None = None  # the first version's, when it differs from the current one
    fee: int = 0
    paid_online: bool = False
    files: tuple[dict[str, Any], ...] = ()
    result_url: str | None = None
    supplements: tuple[dict[str, Any], ...] = ()
    progress: tuple[dict[str, Any], ...] = ()
    delivered_version: int | None = 1
    hub_version: int = 1
    changed_at: datetime | None = None
    agency: str | None = None

    def facts(self, counter: int) -> Facts:
        agency = self.agency or AGENCIES[self.unit]
        code = f"{agency}-{self.received:%y%m%d}-{counter:04d}"
        data: dict[str, Any] = {
            "code": code,
            "receiving_unit": self.unit,
            "local_procedure_code": self.procedure,
            "national_procedure_code": self.procedure,
            "procedure_name": f"Thủ tục {self.procedure}",
            "service_level": self.level,
            "channel": self.channel,
            "applicant": {"name": "Nguyễn Văn An"},
            "status": self.status,
            "received_at": at(self.received),
            "appointment_at": at(self.appointment, 17) if self.appointment else None,
            "finished_at": at(self.finished, 15) if self.finished else None,
            "refused_at": at(self.received, 15) if self.status is Status.REFUSED else None,
            "paid_online": self.paid_online,
            "fees": [{"name": "Lệ phí", "amount": self.fee}] if self.fee else [],
            "files": list(self.files),
            "results": [{"name": "Kết quả", "url": self.result_url}] if self.finished else [],
            "supplements": list(self.supplements),
            "progress": list(self.progress),
            "version": self.hub_version,
            "updated_at": self.changed_at or at(self.finished or self.received, 16),
        }
        first = self.first_appointment or self.appointment
        return Facts(
            dossier=Dossier.model_validate(data),
            first_appointment=at(first, 17) if first else None,
            delivered_version=self.delivered_version,
            hub_version=self.hub_version,
            changed_at=self.changed_at or at(self.finished or self.received, 16),
        )


def extension(issued: date, old: date, new: date, reason: str) -> dict[str, Any]:
    return {
        "round_id": f"GH-{issued:%m%d}",
        "content": reason,
        "requested_at": at(issued, 10),
        "previous_appointment": at(old, 17),
        "new_appointment": at(new, 17),
    }


def step(started: date, done: date, due: date, unit: str, department: str) -> dict[str, Any]:
    return {
        "handler": "Lê Văn Bình",
        "at": at(done, 11),
        "department": department,
        "content": f"Xử lý tại {department}",
        "status": Status.PROCESSING,
        "step_started_at": at(started, 8),
        "step_due_at": at(due, 17),
        "unit_code": unit,
    }


def digitised(reused: bool = False, national: bool = False, scanned: bool = True) -> dict[str, Any]:
    return {
        "file_id": "F1",
        "name": "Tờ khai.pdf",
        "digitised": scanned,
        "reused": reused,
        "from_national_store": national,
    }


D = date
QUANG_NAM_NOW = at(D(2023, 11, 5), 10)
QUANG_NAM: tuple[Case, ...] = (
    Case(
        "early",
        "20968",
        D(2023, 10, 2),
        D(2023, 10, 10),
        Status.RETURNED,
        ONLINE,
        "P1",
        finished=D(2023, 10, 8),
        fee=50000,
        paid_online=True,
        files=(digitised(), digitised()),
        result_url="https://kq.example.vn/1.pdf",
    ),
    Case(
        "on time",
        "20968",
        D(2023, 10, 3),
        D(2023, 10, 12),
        Status.DONE,
        IN_PERSON,
        "P1",
        finished=D(2023, 10, 12),
        files=(digitised(scanned=False),),
    ),
    Case(
        "late finished, no apology",
        "20971",
        D(2023, 10, 4),
        D(2023, 10, 11),
        Status.DONE,
        ONLINE,
        "P3",
        level=3,
        finished=D(2023, 10, 16),
        fee=20000,
        files=(digitised(reused=True, scanned=False),),
        progress=(step(D(2023, 10, 5), D(2023, 10, 15), D(2023, 10, 11), "20971", "Bộ phận địa chính"),),
        hub_version=2,
        changed_at=at(D(2023, 11, 3), 0),
    ),
    Case(
        "late open, no apology",
        "517",
        D(2023, 10, 5),
        D(2023, 10, 20),
        Status.PROCESSING,
        IN_PERSON,
        "P3",
        level=3,
        delivered_version=None,
        changed_at=at(D(2023, 10, 5), 9),
    ),
    Case(
        "extended in time",
        "517",
        D(2023, 10, 6),
        D(2023, 10, 25),
        Status.DONE,
        ONLINE,
        "P5",
        finished=D(2023, 10, 24),
        first_appointment=D(2023, 10, 16),
        files=(digitised(),),
        result_url="https://kq.example.vn/5.pdf",
        supplements=(extension(D(2023, 10, 13), D(2023, 10, 16), D(2023, 10, 25), "Chờ xác minh thực địa"),),
        progress=(step(D(2023, 10, 7), D(2023, 10, 20), D(2023, 10, 14), "517", "Phòng Tài nguyên"),),
    ),
    Case(
        "extended after the deadline",
        "20971",
        D(2023, 10, 9),
        D(2023, 10, 30),
        Status.PROCESSING,
        ONLINE,
        "P5",
        first_appointment=D(2023, 10, 18),
        supplements=(extension(D(2023, 10, 19), D(2023, 10, 18), D(2023, 10, 30), "Thiếu hồ sơ gốc"),),
        progress=(step(D(2023, 10, 15), D(2023, 10, 16), D(2023, 10, 25), "20971", "Bộ phận tư pháp"),),
    ),
    Case(
        "appointment moved without apology",
        "20968",
        D(2023, 10, 10),
        D(2023, 10, 27),
        Status.DONE,
        IN_PERSON,
        "P7",
        level=None,
        finished=D(2023, 10, 26),
        first_appointment=D(2023, 10, 17),
        files=(digitised(national=True),),
    ),
    Case(
        "finished before the period",
        "20968",
        D(2023, 9, 1),
        D(2023, 9, 12),
        Status.DONE,
        ONLINE,
        "P1",
        finished=D(2023, 9, 10),
    ),
    Case("refused", "20968", D(2023, 10, 11), D(2023, 10, 20), Status.REFUSED, ONLINE, "P9"),
    Case("received after the period", "20968", D(2023, 11, 2), D(2023, 11, 9), Status.PROCESSING, ONLINE, "P1"),
    Case(
        "carried over, early",
        "20971",
        D(2023, 9, 25),
        D(2023, 10, 5),
        Status.DONE,
        ONLINE,
        "P11",
        finished=D(2023, 10, 4),
    ),
)

DA_NANG_NOW = at(D(2025, 8, 5), 10)
DA_NANG: tuple[Case, ...] = (
    Case(
        "received by Tam Xuân I before the merger, early",
        "20968",
        D(2025, 6, 25),
        D(2025, 7, 3),
        Status.DONE,
        ONLINE,
        "Q1",
        finished=D(2025, 7, 2),
    ),
    Case(
        "received by Tam Xuân II before the merger, late",
        "20971",
        D(2025, 6, 27),
        D(2025, 7, 7),
        Status.DONE,
        IN_PERSON,
        "Q1",
        finished=D(2025, 7, 9),
        agency=AGENCIES["20971"],
    ),
    Case(
        "received by Xã Tam Xuân, on time, paid online",
        "20971",
        D(2025, 7, 3),
        D(2025, 7, 10),
        Status.DONE,
        ONLINE,
        "Q3",
        level=3,
        finished=D(2025, 7, 10),
        fee=30000,
        paid_online=True,
        agency=AGENCIES["20971@2025"],
    ),
    Case(
        "received by Núi Thành district, extended in time, still open",
        "517",
        D(2025, 6, 20),
        D(2025, 8, 10),
        Status.PROCESSING,
        IN_PERSON,
        "Q3",
        level=3,
        first_appointment=D(2025, 7, 15),
        supplements=(extension(D(2025, 7, 12), D(2025, 7, 15), D(2025, 8, 10), "Chờ ý kiến sở"),),
    ),
    Case(
        "received by Xã Núi Thành, late open, no apology",
        "20965",
        D(2025, 7, 5),
        D(2025, 7, 20),
        Status.PROCESSING,
        ONLINE,
        "Q5",
        agency=AGENCIES["20965@2025"],
    ),
    Case(
        "received by Tam Quang before the merger, open on time",
        "20998",
        D(2025, 6, 28),
        D(2025, 8, 5),
        Status.PROCESSING,
        ONLINE,
        "Q5",
    ),
)


def facts(cases: tuple[Case, ...]) -> list[Facts]:
    return [case.facts(n) for n, case in enumerate(cases, start=1)]


def by_name(cases: tuple[Case, ...], name: str) -> str:
    """The dossier code the named case gets from :func:`facts`."""
    for found, fact in zip(cases, facts(cases), strict=True):
        if found.name == name:
            return fact.dossier.code
    raise KeyError(name)


def store(db: Database, items: list[Facts]) -> None:
    """Write the facts as the hub would have: the dossier row, its first and current versions, portal deliveries."""
    with db.session() as session:
        for item in items:
            dossier = item.dossier
            data = dossier.model_dump(mode="json")
            changed = item.changed_at or dossier.updated_at
            session.add(
                DossierRow(
                    code=dossier.code,
                    receiving_unit=dossier.receiving_unit,
                    processing_unit=dossier.processing_unit,
                    local_procedure_code=dossier.local_procedure_code,
                    national_procedure_code=dossier.national_procedure_code,
                    status=int(dossier.status),
                    version=item.hub_version,
                    content_hash="0" * 64,
                    source_updated_at=dossier.updated_at,
                    received_at=dossier.received_at,
                    appointment_at=dossier.appointment_at,
                    finished_at=dossier.finished_at,
                    data=data,
                    updated_at=changed,
                )
            )
            first = dict(data, appointment_at=item.first_appointment.isoformat() if item.first_appointment else None)
            versions = {1: first, item.hub_version: data} if item.hub_version > 1 else {1: first}
            for version, payload in versions.items():
                session.add(
                    DossierVersion(
                        dossier_code=dossier.code,
                        version=version,
                        status=int(dossier.status),
                        source_updated_at=dossier.updated_at,
                        data=payload,
                    )
                )
            if item.delivered_version is not None:
                session.add(Delivery(dossier_code=dossier.code, dossier_version=item.delivered_version, target="dvcqg"))


def polled(db: Database, moment: datetime) -> None:
    """Record a poll that succeeded at ``moment`` and found nothing newer: the hub knew the world until then (a store
    without one knows it only until its newest change; :func:`reports.store.known_until`)."""
    with db.session() as session:
        session.add(
            Message(
                kind="poll",
                actor="poll_unit",
                queue="poll",
                state=MessageState.SUCCEEDED.value,
                unit_code="20968",
                source="motcua",
                created_at=moment,
                updated_at=moment,
                finished_at=moment,
            )
        )
