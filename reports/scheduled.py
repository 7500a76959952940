"""The daily reconciliation, one ``reconcile_unit`` message per unit a one-stop-shop serves: yesterday's changes, a
sample looked up at the national portal at a gentle rate (options ``reconcile_sample`` and ``reconcile_rate`` of the
portal system, default 10 % at 2 calls per second). The scheduler only asks; a worker runs it through its own
connectors, so every call is in the message's attempt. Differences stay in ``reconciliation_runs`` for the "Đối soát"
page, where an operator turns them into a replay job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from foundation.errors import ConfigurationError
from foundation.topology import Topology
from hub import claims
from hub.context import HubContext
from reports.reconciliation import through_hub
from systems.registry import kind_of


@dataclass(frozen=True)
class ReconcileOptions:
    """The portal system's reconciliation options, checked."""

    sample: float
    rate: float

    @classmethod
    def of(cls, topology: Topology) -> ReconcileOptions:
        options = topology.portal.options
        sample = float(options.get("reconcile_sample", 0.1))
        rate = float(options.get("reconcile_rate", 2.0))
        if not 0 < sample <= 1 or rate <= 0:
            raise ConfigurationError(
                f"systems[{topology.portal.name}].options: reconcile_sample phải trong (0, 1], reconcile_rate > 0 "
                f"(reconcile_sample must be in (0, 1], reconcile_rate above 0)"
            )
        return cls(sample=sample, rate=rate)


def run_reconcile(ctx: HubContext, message_id: int) -> str:
    """The ``reconcile_unit`` actor's work: one unit's source against the portal over the payload's range."""

    def work(payload: dict[str, Any]) -> dict[str, Any]:
        unit_code, system = payload["unit_code"], ctx.topology.systems[payload["system"]]
        if not kind_of(system).is_source:
            return {"unit_code": unit_code, "skipped": "không phải nguồn hồ sơ (not a dossier source)"}
        options = ReconcileOptions.of(ctx.topology)
        reconciler = through_hub(ctx, system.name, rate_per_second=options.rate)
        since, until = datetime.fromisoformat(payload["since"]), datetime.fromisoformat(payload["until"])
        run = reconciler.run(unit_code, since, until, sample=options.sample, user="schedule")
        return {
            "unit_code": unit_code,
            "run_id": run.id,
            "listed": run.listed,
            "checked": run.checked,
            "missing": run.count("missing"),
            "mismatched": run.count("mismatched"),
        }

    return claims.run_claimed(ctx.db, message_id, work, lease_seconds=ctx.settings.message_lease_seconds)
