"""Which jobs a topology asks for: one poll per (system, active unit), and the daily jobs.

Job ids are stable strings (``poll:{system}:{unit}``, ``daily:procedure-catalogue`` ...) because they name the
job everywhere: in tick claims, in ``schedule_jobs`` (pause, last run) and on the admin console.

Schedules come from the topology. A poll runs every ``poll_interval`` seconds of its unit or system, unless the
system's options give a cron expression: ``poll_cron`` for all its units, ``unit_poll_cron: {code: expression}``
for one unit. The daily jobs' cron expressions are options of the portal system (``procedure_catalogue_cron``,
``unit_catalogue_cron``, ``late_scan_cron``, ``tick_prune_cron``, ``reconcile_cron``); all cron expressions are in
Vietnam time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from foundation.errors import ConfigurationError
from foundation.topology import System, Topology, Unit
from schedules.timing import Cron, Every, Schedule

# Whether a system is a dossier source (its kind reads records into the canonical model): the entry point that
# starts the scheduler asks the system kinds (``kind_of(system).is_source``), which the schedules never import.
IsSource = Callable[[System], bool]


class JobKind(StrEnum):
    POLL = "poll"  # enqueue an incremental poll of one unit's change feed
    PROCEDURE_CATALOGUE = "procedure-catalogue"  # refresh the national procedure catalogue (LayDanhSachTTHC)
    UNIT_CATALOGUE = "unit-catalogue"  # refresh the portal's agency catalogue (LayDanhMucCoQuan)
    LATE_SCAN = "late-scan"  # record the dossiers that are late for the admin console
    TICK_PRUNE = "tick-prune"  # forget claimed ticks too old to be claimed again
    RECONCILE = "reconcile"  # compare yesterday's dossiers of every unit with the national portal (reports/)
    LOG_RETENTION = "log-retention"  # seal yesterday's integration log, purge and archive what is past retention


DAILY_DEFAULTS: dict[JobKind, tuple[str, str]] = {
    # kind: (option on the portal system, default expression); at night, Vietnam time, one after the other
    JobKind.LATE_SCAN: ("late_scan_cron", "5 0 * * *"),
    JobKind.PROCEDURE_CATALOGUE: ("procedure_catalogue_cron", "15 2 * * *"),
    JobKind.UNIT_CATALOGUE: ("unit_catalogue_cron", "30 2 * * *"),
    JobKind.TICK_PRUNE: ("tick_prune_cron", "45 3 * * *"),
    JobKind.RECONCILE: ("reconcile_cron", "0 4 * * *"),
    JobKind.LOG_RETENTION: ("log_retention_cron", "0 1 * * *"),
}


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One periodic job: what it does, for which system and unit, and when."""

    job_id: str
    kind: JobKind
    schedule: Schedule
    system: str | None = None
    unit_code: str | None = None

    def describe(self) -> str:
        if self.kind is JobKind.POLL:
            return f"poll unit {self.unit_code} on {self.system}"
        return self.kind.value


def poll_job_id(system: str, unit_code: str) -> str:
    return f"poll:{system}:{unit_code}"


def daily_job_id(kind: JobKind) -> str:
    return f"daily:{kind.value}"


def plan(topology: Topology, on: date | None = None, *, is_source: IsSource) -> list[JobSpec]:
    """Every job the topology asks for on ``on`` (today by default): polls of its active units, then daily jobs."""
    specs: list[JobSpec] = []
    portal = topology.portal
    for unit in topology.active_units(on):
        system = topology.system_for(unit)
        if system is None or system.name == portal.name or not is_source(system):
            continue  # a retired unit, or one only the portal knows: nothing to poll
        specs.append(
            JobSpec(
                job_id=poll_job_id(system.name, unit.code),
                kind=JobKind.POLL,
                schedule=poll_schedule(topology, system, unit),
                system=system.name,
                unit_code=unit.code,
            )
        )
    for kind, (option, default) in DAILY_DEFAULTS.items():
        expression = _option(portal.options, option, default, where=f"systems[{portal.name}].options.{option}")
        system_name = portal.name if kind in {JobKind.PROCEDURE_CATALOGUE, JobKind.UNIT_CATALOGUE} else None
        specs.append(JobSpec(daily_job_id(kind), kind, Cron(expression), system=system_name))
    return specs


def poll_schedule(topology: Topology, system: System, unit: Unit) -> Schedule:
    """A unit's poll schedule: its cron expression when the system's options give one, else its interval."""
    per_unit = system.options.get("unit_poll_cron") or {}
    if not isinstance(per_unit, dict):
        raise ConfigurationError(
            f"systems[{system.name}].options.unit_poll_cron phải là bảng mã đơn vị → cron "
            f"(must map unit codes to cron expressions)"
        )
    expression = per_unit.get(unit.code) or system.options.get("poll_cron")
    if expression:
        return Cron(_text(expression, where=f"systems[{system.name}].options poll cron of unit {unit.code}"))
    return Every(topology.poll_interval(unit))


def _option(options: dict[str, Any], key: str, default: str, *, where: str) -> str:
    return _text(options.get(key, default), where=where)


def _text(value: Any, *, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: phải là chuỗi cron (must be a cron string), got {value!r}")
    return value
