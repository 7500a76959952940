"""Unit and agency codes resolved through the topology, including predecessor → successor units.

Pure functions of a :class:`hub.topology.Topology`: a dossier keeps the unit that received it forever, while new
traffic for a merged unit goes to its successor. Codes are resolved at a date because a merged commune may reuse
a predecessor's code.
"""

from __future__ import annotations

from datetime import date

from hub.errors import ConfigurationError
from hub.topology import Topology, Unit


def unit_at(topology: Topology, code: str, on: date) -> Unit:
    """The unit that carried ``code`` on ``on`` (a dossier's receiving unit is looked up at its receipt date)."""
    return topology.unit(code, on)


def successor_on(topology: Topology, unit: Unit, on: date) -> Unit:
    """The unit that carries ``unit``'s traffic on ``on``: ``unit`` itself while valid, else its successor chain."""
    current = topology.current(unit, on)
    if not current.valid_on(on):
        raise ConfigurationError(
            f"Đơn vị {unit.code} ({unit.name}) hết hiệu lực và không có đơn vị kế thừa vào ngày {on:%d/%m/%Y} "
            f"(unit {unit.code} has no successor valid on {on})"
        )
    return current


def route(topology: Topology, code: str, received_on: date, on: date) -> Unit:
    """Where traffic for a dossier received by unit ``code`` on ``received_on`` goes on ``on``."""
    return successor_on(topology, unit_at(topology, code, received_on), on)


def unit_for_agency(topology: Topology, agency_id: str, on: date) -> Unit:
    """The unit whose electronic agency identifier (the head of a dossier code) is ``agency_id`` on ``on``."""
    for unit in topology.units:
        if unit.agency_id == agency_id and unit.valid_on(on):
            return unit
    raise ConfigurationError(
        f"Không có đơn vị mang mã định danh {agency_id} vào ngày {on:%d/%m/%Y} (no unit with agency id {agency_id})"
    )
