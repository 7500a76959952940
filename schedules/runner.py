"""What a claimed tick does, per kind of job: it asks the hub, by recording a message its actor runs (the poll, the
catalogue refreshes, the reconciliation of each unit, the late scan, the log's retention), so every remote call
is an attempt in the integration log, under the workers' retry policy and circuit breakers. Only the pruning of
old tick claims, the scheduler's own table, is done here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from foundation.clock import VN_TZ
from foundation.topology import Topology
from hub import outbox
from hub.store.db import Database
from schedules.claims import Claims
from schedules.plan import IsSource, JobKind, JobSpec

# A claim older than this can no longer be contended: every scheduler has long moved past that tick.
TICK_RETENTION = timedelta(days=7)

Request = Callable[..., int]  # (db, kind, payload, **columns) → message id: hub.outbox.request
CATALOGUES = {JobKind.PROCEDURE_CATALOGUE: "procedures", JobKind.UNIT_CATALOGUE: "agencies"}


class HubRunner:
    """The scheduler's runner in production: every job but the tick pruning is a message to the hub."""

    def __init__(
        self,
        db: Database,
        claims: Claims,
        topology: Topology,
        *,
        is_source: IsSource,
        request: Request = outbox.request,
    ) -> None:
        self.db = db
        self.claims = claims
        self.topology = topology
        self.is_source = is_source
        self.request = request

    def __call__(self, spec: JobSpec, tick: datetime) -> str:
        # The tick travels in each message's payload, so the integration log shows which tick asked for it.
        if spec.kind is JobKind.POLL:
            if spec.system is None or spec.unit_code is None:
                raise ValueError(f"poll job {spec.job_id} has no system or unit")
            payload = {"system": spec.system, "unit_code": spec.unit_code, "reason": f"schedule {tick.isoformat()}"}
            message_id = self.request(self.db, "poll", payload, unit_code=spec.unit_code, source=spec.system)
            return f"đã xếp hàng lượt đọc (poll enqueued): message {message_id}"
        if spec.kind in CATALOGUES:
            payload = {"system": spec.system or self.topology.portal.name, "catalogue": CATALOGUES[spec.kind]}
            return self._asked("daily_catalogue", {**payload, "tick": tick.isoformat()}, source=payload["system"])
        if spec.kind is JobKind.LATE_SCAN:
            return self._asked(
                "daily_late_scan", {"day": tick.astimezone(VN_TZ).date().isoformat(), "tick": tick.isoformat()}
            )
        if spec.kind is JobKind.LOG_RETENTION:
            return self._asked("daily_retention", {"now": tick.isoformat()})
        if spec.kind is JobKind.RECONCILE:
            return self._reconcile(tick)
        if spec.kind is JobKind.TICK_PRUNE:
            removed = self.claims.prune(tick - TICK_RETENTION)
            return f"đã xoá {removed} lượt cũ (pruned old ticks)"
        raise ValueError(f"unknown job kind {spec.kind}")

    def _asked(self, kind: str, payload: dict[str, Any], **columns: Any) -> str:
        message_id = self.request(self.db, kind, payload, **columns)
        return f"đã xếp hàng (enqueued): message {message_id}"

    def _reconcile(self, tick: datetime) -> str:
        """One message per unit a one-stop-shop serves: yesterday, Vietnam time."""
        day = tick.astimezone(VN_TZ).date() - timedelta(days=1)
        since = datetime.combine(day, time.min, tzinfo=VN_TZ)
        until = since + timedelta(days=1)
        portal = self.topology.portal.name
        asked = 0
        for unit in self.topology.active_units(day):
            system = self.topology.system_for(unit)
            if system is None or system.name == portal or not self.is_source(system):
                continue
            payload = {
                "system": system.name,
                "unit_code": unit.code,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "tick": tick.isoformat(),
            }
            self.request(self.db, "daily_reconcile", payload, unit_code=unit.code, source=system.name, target=portal)
            asked += 1
        return f"đã xếp hàng đối soát {asked} đơn vị ngày {day:%d/%m/%Y} (reconciliation of {asked} units enqueued)"
