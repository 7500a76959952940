"""What a claimed tick does, per kind of job: a poll is only enqueued (the hub's poll actor does the reading);
the daily jobs are small and run in the scheduler's own thread pool."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from foundation.clock import VN_TZ
from foundation.settings import get_settings
from foundation.topology import Topology
from hub import retention
from hub.store.db import Database
from hub.sync import request_poll as hub_request_poll
from reports.rules import load_rules
from schedules import catalogue, late
from schedules.claims import Claims
from schedules.plan import JobKind, JobSpec

# A claim older than this can no longer be contended: every scheduler has long moved past that tick.
TICK_RETENTION = timedelta(days=7)

PortalFactory = Callable[[], Any]
RequestPoll = Callable[..., int]
Reconcile = Callable[[datetime], str]  # the daily reconciliation, given the tick; returns its outcome line


class HubRunner:
    """The scheduler's runner in production: polls through ``hub.sync.request_poll``, catalogues through the
    portal connector, the late scan (the reports' register of the topology's units), tick pruning and the
    integration log's retention on the database."""

    def __init__(
        self,
        db: Database,
        claims: Claims,
        portal: PortalFactory,
        request_poll: RequestPoll | None = None,
        reconcile: Reconcile | None = None,
        topology: Topology | None = None,
    ) -> None:
        self.db = db
        self.claims = claims
        self.portal = portal
        self.reconcile = reconcile
        self.topology = topology
        self.request_poll = request_poll or hub_request_poll

    def __call__(self, spec: JobSpec, tick: datetime) -> str:
        if spec.kind is JobKind.POLL:
            if spec.system is None or spec.unit_code is None:
                raise ValueError(f"poll job {spec.job_id} has no system or unit")
            # The tick travels in the poll's reason, so the integration log shows which tick asked for it.
            message_id = self.request_poll(self.db, spec.system, spec.unit_code, reason=f"schedule {tick.isoformat()}")
            return f"đã xếp hàng lượt đọc (poll enqueued): message {message_id}"
        if spec.kind is JobKind.PROCEDURE_CATALOGUE:
            return str(catalogue.refresh_procedures(self.db, self.portal()))
        if spec.kind is JobKind.UNIT_CATALOGUE:
            return str(catalogue.refresh_agencies(self.db, self.portal()))
        if spec.kind is JobKind.LATE_SCAN:
            if self.topology is None:
                return "sổ trễ hạn chưa được cấu hình (late scan not wired: no topology)"
            return str(late.scan(self.db, self.topology, load_rules(), tick.astimezone(VN_TZ).date()))
        if spec.kind is JobKind.RECONCILE:
            if self.reconcile is None:
                return "đối soát chưa được cấu hình (reconciliation not wired)"
            return self.reconcile(tick)
        if spec.kind is JobKind.TICK_PRUNE:
            removed = self.claims.prune(tick - TICK_RETENTION)
            return f"đã xoá {removed} lượt cũ (pruned old ticks)"
        if spec.kind is JobKind.LOG_RETENTION:
            return str(retention.run(self.db, retention.Policy.from_settings(get_settings()), now=tick))
        raise ValueError(f"unknown job kind {spec.kind}")
