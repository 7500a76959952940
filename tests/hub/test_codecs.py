"""The codecs without a broker: the pipeline asks a system's kind to map, and compares what a target already has."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest

from connectors.base import RawRecord
from foundation.errors import ConfigurationError
from foundation.settings import Settings
from foundation.topology import Topology, TopologyFile
from hub import codecs
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from mappings.canonical import Dossier, ProgressEntry
from mappings.procedures import InMemoryProcedureLookup, NationalProcedure, ProcedureLookup
from systems import motcua, registry
from systems.kind import Options, Outgoing, SystemKind
from tests.hub.factories import COMMUNE, DISTRICT, T0, progress, record

LOOKUP = InMemoryProcedureLookup({"NT-HT-001": NationalProcedure("1.001193", "HT", "Hộ tịch")})


class Probe:
    """A kind's mappings that remember what the pipeline asked them."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    def to_canonical(self, raw: RawRecord, procedures: ProcedureLookup) -> Dossier:
        self.asked.append(("to_canonical", (raw["MaHoSo"], procedures)))
        return motcua.to_canonical(raw, procedures)

    def to_target(
        self, dossier: Dossier, new: Sequence[ProgressEntry], unit: str | None, procedures: ProcedureLookup
    ) -> Outgoing:
        self.asked.append(("to_target", ([e.content for e in new], unit, procedures)))
        return Outgoing(record={"code": dossier.code, "steps": len(new)})


PROBE = Probe()


def _unbuildable(*_: Any) -> Any:
    raise AssertionError("codecs never build connectors")


KINDS: Mapping[str, SystemKind] = {
    "probe-source": SystemKind("probe-source", Options, _unbuildable, to_canonical=PROBE.to_canonical),
    "probe-target": SystemKind("probe-target", Options, _unbuildable, to_target=PROBE.to_target),
}


@pytest.fixture
def ctx() -> HubContext:
    PROBE.asked.clear()
    system = {"base_url": "http://127.0.0.1:1/x"}
    topology = Topology(
        TopologyFile.model_validate(
            {
                "name": "codecs",
                "targets": ["portal"],
                "kinds": {"probe-source": __name__, "probe-target": __name__},
                "systems": [
                    {"name": "shop", "kind": "probe-source", **system},
                    {"name": "portal", "kind": "probe-target", **system},
                ],
                "units": [
                    {"code": "1", "name": "Tỉnh", "level": "province", "agency_id": "000.00.00.H01", "system": "shop"}
                ],
            }
        )
    )
    settings = Settings(_env_file=None)
    # the codecs read only the topology and the procedure look-up; the store is never opened
    return HubContext(
        settings=settings,
        db=Database("sqlite://"),
        topology=topology,
        connectors=ConnectorPool(topology, settings),
        procedures=LOOKUP,
    )


def test_a_source_record_is_mapped_by_the_sources_own_kind_with_the_hubs_procedure_lookup(ctx: HubContext) -> None:
    raw = record("000.01.17.H47-240304-0001")
    dossier = codecs.to_canonical(ctx, "shop", raw)
    assert dossier.code == "000.01.17.H47-240304-0001"
    assert dossier.national_procedure_code == "1.001193"
    assert PROBE.asked == [("to_canonical", ("000.01.17.H47-240304-0001", LOOKUP))]


def test_a_system_whose_kind_reads_no_dossiers_is_refused_as_a_source_by_name(ctx: HubContext) -> None:
    with pytest.raises(ConfigurationError, match="portal"):
        codecs.to_canonical(ctx, "portal", record("000.01.17.H47-240304-0001"))
    assert PROBE.asked == []


def test_a_target_gets_only_the_progress_steps_it_has_not_seen_for_its_unit(ctx: HubContext) -> None:
    # Given a revision the target has (one step) and a newer one with two more steps, one of them a copy of the
    # first step as the district's system recorded it (same time, status, handler and content)
    code = "000.01.17.H47-240304-0001"
    first = progress(2, T0, "Tiếp nhận")
    previous = motcua.to_canonical(record(code, version=1, steps=[first]), LOOKUP)
    later = [first | {"MaDonVi": DISTRICT}, progress(4, T0 + timedelta(hours=2), "Chuyển huyện")]
    later.append(progress(9, T0 + timedelta(days=1), "Đã xử lý xong", DISTRICT))
    newer = motcua.to_canonical(record(code, version=2, steps=later), LOOKUP)

    # When the codecs are asked what to send to the target, for the commune's copy
    outgoing = codecs.to_target(ctx, ctx.topology.systems["portal"], newer, previous, unit_code=COMMUNE)

    # Then the target's kind maps it, with only the steps the previous revision did not have
    assert outgoing.record == {"code": code, "steps": 2}
    assert PROBE.asked == [("to_target", (["Chuyển huyện", "Đã xử lý xong"], COMMUNE, LOOKUP))]


def test_a_first_delivery_carries_every_step(ctx: HubContext) -> None:
    steps = [progress(2, T0, "Tiếp nhận"), progress(4, T0 + timedelta(hours=1), "Đang xử lý")]
    dossier = motcua.to_canonical(record("000.01.17.H47-240304-0002", steps=steps), LOOKUP)
    codecs.to_target(ctx, ctx.topology.systems["portal"], dossier, None, unit_code=None)
    assert PROBE.asked == [("to_target", (["Tiếp nhận", "Đang xử lý"], None, LOOKUP))]


def test_a_system_whose_kind_receives_nothing_is_refused_as_a_target_by_name(ctx: HubContext) -> None:
    dossier = motcua.to_canonical(record("000.01.17.H47-240304-0003"), LOOKUP)
    with pytest.raises(ConfigurationError, match="shop"):
        codecs.to_target(ctx, ctx.topology.systems["shop"], dossier, None, unit_code=None)


def test_the_kinds_are_found_through_the_topology_alone() -> None:
    assert registry.kind_of("probe-target") is KINDS["probe-target"]


@pytest.mark.parametrize(
    ("existing", "sent", "same"),
    [
        ({"a": "1", "b": "x"}, {"a": "1"}, True),  # the target may hold more than was sent
        ({"a": 1}, {"a": "1"}, True),  # numbers come back as text
        ({"a": "1"}, {"a": "2"}, False),
        ({}, {"a": None}, True),  # absent and empty are the same
        ({"a": ""}, {"a": None}, True),
        ({"a": None}, {"a": ""}, True),
        ({}, {"a": "x"}, False),
        ({"a": "0"}, {"a": None}, False),  # "0" is a value, not an empty field
        ({"o": {"x": 1, "y": 2}}, {"o": {"x": "1"}}, True),  # nested records compare field by field
        ({"o": {"x": 1}}, {"o": {"x": 1, "y": 2}}, False),
        ({"o": "x=1"}, {"o": {"x": 1}}, False),  # a record is not its text
        ({"l": [1, 2]}, {"l": ["1", "2"]}, True),
        ({"l": [1, 2, 3]}, {"l": [1, 2]}, False),  # a list has exactly the items sent, in order
        ({"l": [2, 1]}, {"l": [1, 2]}, False),
        ({"l": "12"}, {"l": ["1", "2"]}, False),  # a text is not a list of characters
        ({"l": [{"k": 1, "extra": 0}]}, {"l": [{"k": "1"}]}, True),
    ],
)
def test_same_content_compares_what_was_sent_with_what_the_target_holds(
    existing: RawRecord, sent: RawRecord, same: bool
) -> None:
    assert codecs.same_content(existing, sent) is same


def test_fields_the_target_does_not_echo_are_left_out_of_the_comparison() -> None:
    existing = {"MaHoSo": "D1", "TrangThai": 4}
    sent = {"MaHoSo": "D1", "TrangThai": 4, "MatKhauUyQuyen": "never returned"}
    assert codecs.same_content(existing, sent) is False
    assert codecs.same_content(existing, sent, not_echoed=frozenset({"MatKhauUyQuyen"})) is True
