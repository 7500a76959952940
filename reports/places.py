"""Where a dossier counts: its receiving unit, followed through mergers to the unit that carries it on a date.

A dossier keeps its receiving unit forever (the unit that held the code on the day it was received); reports count
it for that unit's successor on the report's date, so after July 2025 a merged commune's dossiers roll up to the new
commune and, since districts were abolished, to the province.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from foundation.errors import ConfigurationError
from foundation.topology import Level, Topology, Unit


@dataclass(frozen=True, slots=True)
class Place:
    """A unit as reports see it: code, name, level, and the codes of the units above it, nearest first."""

    code: str
    name: str
    level: Level | None
    ancestors: tuple[str, ...] = ()


class Placer:
    """Resolves receiving units to the units that carry them on ``as_of``, with the chain above them."""

    def __init__(self, topology: Topology, as_of: date) -> None:
        self.topology = topology
        self.as_of = as_of
        self._cache: dict[tuple[str, date], Place] = {}

    def place(self, unit_code: str, received_on: date) -> Place:
        """The unit that carries on ``as_of`` what ``unit_code`` received on ``received_on``."""
        key = (unit_code, received_on)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(unit_code, received_on)
        return found

    def unit(self, code: str) -> Place:
        """A unit by code as on ``as_of`` (a province or district row of a report)."""
        return self.place(code, self.as_of)

    def _resolve(self, unit_code: str, received_on: date) -> Place:
        try:
            unit = self.topology.unit(unit_code, received_on)
        except ConfigurationError:
            retired = [u for u in self.topology.units if u.code == unit_code and u.valid_to < received_on]
            if not retired:
                # A code the topology does not know still counts, on its own, so no dossier drops out of a report.
                return Place(unit_code, unit_code, None)
            # Submitted to a unit that was merged before the dossier was received: it went where its traffic went.
            unit = max(retired, key=lambda u: u.valid_to)
        current = self.topology.current(unit, max(self.as_of, received_on))
        return Place(current.code, current.name, current.level, tuple(u.code for u in self._chain(current)))

    def _chain(self, unit: Unit) -> list[Unit]:
        chain: list[Unit] = []
        parent = self.topology.parent(unit)
        while parent is not None:
            parent = self.topology.current(parent, max(self.as_of, unit.valid_from))
            chain.append(parent)
            parent = self.topology.parent(parent)
        return chain
