"""Who must hear about a dossier change: the national portal, and every other unit's system that holds a copy.

Targets are named ``"<system>"`` for a national target (the topology's ``targets``: the portal, and any other
system that receives every dossier) and ``"<system>:<unit code>"`` for a unit's copy in a
one-stop-shop system. A dossier received by a unit that has since been merged is routed to the successor's
system, which carries the old unit's dossiers.
"""

from __future__ import annotations

from datetime import date

from foundation.errors import ConfigurationError
from foundation.topology import Topology, Unit
from mappings.canonical import Dossier
from systems.registry import receives_updates


def unit_target(system: str, unit_code: str) -> str:
    return f"{system}:{unit_code}"


def split_target(target: str) -> tuple[str, str | None]:
    """``"motcua:20965"`` → ``("motcua", "20965")``; ``"dvcqg"`` → ``("dvcqg", None)``."""
    system, _, unit = target.partition(":")
    return system, unit or None


def owner_unit(dossier: Dossier) -> str:
    """The unit whose copy is authoritative: the processing unit during liên thông, else the receiving unit."""
    return dossier.processing_unit or dossier.receiving_unit


def holds_owners_copy(topology: Topology, dossier: Dossier, unit_code: str, on: date) -> bool:
    """Whether ``unit_code``'s copy is the authoritative one: the owner unit's own, or, once the owner has been merged,
    that of its successor, whose system carries the old unit's dossiers."""
    owner = owner_unit(dossier)
    if unit_code == owner:
        return True
    try:
        return topology.current(_unit_then(topology, owner, dossier, on), on).code == unit_code
    except ConfigurationError:  # a unit the topology does not know: only its own code owns its copy
        return False


def targets_for(topology: Topology, dossier: Dossier, *, source_unit: str, on: date) -> list[str]:
    """The national targets (the portal first), plus each other unit holding a copy, by its current system when that
    system takes updates."""
    found = list(topology.spec.targets)
    for code in dict.fromkeys(c for c in (dossier.receiving_unit, dossier.processing_unit) if c):
        if code == source_unit:
            continue
        unit = topology.current(_unit_then(topology, code, dossier, on), on)
        if unit.code == source_unit:
            continue  # merged into the unit whose copy this is (July 2025): the source already holds it
        system = topology.system_for(unit)
        # a system that takes no updates (a read-only vendor) only ever gets copies to park; config check says so
        if system is not None and receives_updates(system):
            found.append(unit_target(system.name, code))
    return found


def _unit_then(topology: Topology, code: str, dossier: Dossier, on: date) -> Unit:
    """The unit that held ``code`` when the dossier reached it: on the day it was received, else the day it was
    submitted (one submitted online to a unit merged before anyone received it, or not received yet), else ``on``."""
    for moment in (dossier.received_at, dossier.submitted_at):
        if moment is not None:
            try:
                return topology.unit(code, moment.date())
            except ConfigurationError:
                continue
    return topology.unit(code, on)
