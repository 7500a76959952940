"""The daily reconciliation the scheduler asks for: every unit a one-stop-shop serves, yesterday's changes, a sample
looked up at the national portal at a gentle rate (options ``reconcile_sample`` and ``reconcile_rate`` of the portal
system, default 10 % at 2 calls per second). Differences stay in ``reconciliation_runs`` for the "Đối soát" page,
where an operator turns them into a replay job."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError, HubError
from foundation.logs import get_logger
from foundation.settings import Settings
from foundation.topology import Topology
from hub.store.db import Database
from reports.reconciliation import connected
from systems.registry import kind_of

log = get_logger(__name__)


class DailyReconciliation:
    """Called with the scheduler's tick; returns the outcome line the scheduler records."""

    def __init__(self, db: Database, topology: Topology, settings: Settings) -> None:
        self.db = db
        self.topology = topology
        self.settings = settings
        options = topology.portal.options
        self.sample = float(options.get("reconcile_sample", 0.1))
        self.rate = float(options.get("reconcile_rate", 2.0))
        if not 0 < self.sample <= 1 or self.rate <= 0:
            raise ConfigurationError(
                f"systems[{topology.portal.name}].options: reconcile_sample phải trong (0, 1], reconcile_rate > 0 "
                f"(reconcile_sample must be in (0, 1], reconcile_rate above 0)"
            )

    def __call__(self, tick: datetime) -> str:
        day = tick.astimezone(VN_TZ).date() - timedelta(days=1)
        since = datetime.combine(day, time.min, tzinfo=VN_TZ)
        until = since + timedelta(days=1)
        missing = mismatched = failed = units = 0
        for unit in self.topology.active_units(day):
            system = self.topology.system_for(unit)
            if system is None or system.name == self.topology.portal.name or not kind_of(system).is_source:
                continue
            units += 1
            try:
                with connected(
                    self.db, self.topology, unit.code, settings=self.settings, rate_per_second=self.rate
                ) as r:
                    run = r.run(unit.code, since, until, sample=self.sample, user="schedule")
            except HubError as exc:
                # One unreachable unit must not stop the others; the scheduler's line says how many failed.
                failed += 1
                log.warning("reconcile_failed", unit_code=unit.code, error=type(exc).__name__)
                continue
            missing += run.count("missing")
            mismatched += run.count("mismatched")
        return (
            f"đối soát {units} đơn vị ngày {day:%d/%m/%Y}: thiếu {missing}, lệch {mismatched}, lỗi {failed} "
            f"(reconciled {units} units: {missing} missing, {mismatched} mismatched, {failed} failed)"
        )
