"""The simulated world across the July 2025 merger on the Đà Nẵng topology: the old units receive dossiers in June,
at midnight their copies move to the successor's system (keeping their receiving unit and code), which updates them
and answers for the old codes; from 1 July only the new units receive dossiers."""

from __future__ import annotations

from datetime import datetime

from foundation.clock import VN_TZ
from foundation.topology import load
from simulators.server import Simulators
from tests.simulators.conftest import TOPOLOGIES

TOPOLOGY = load(TOPOLOGIES / "da-nang-2025.yaml")
OLD = {u.code for u in TOPOLOGY.units if u.system == "motcua-quangnam"}
NEW = {u.code for u in TOPOLOGY.units if u.system == "motcua-danang"}


def test_the_old_units_dossiers_move_to_their_successors_at_midnight_and_are_updated_there() -> None:
    sims = Simulators(TOPOLOGY, seed=5, start=datetime(2025, 6, 20, 8, 0, tzinfo=VN_TZ))
    june = sims.lifecycle.populate(200, days=10)
    assert june.moved == 0 and sims.now() == datetime(2025, 6, 30, 8, 0, tzinfo=VN_TZ)
    before, copies = sims.source_state(), sims.store.count()
    assert {r.MaDonViTiepNhan for r in before.values()} <= OLD
    open_at_tam_xuan_1 = [
        code for code, r in before.items() if r.MaDonViTiepNhan == "20968" and r.MaDonViXuLy is None and r.TrangThai < 9
    ]
    assert open_at_tam_xuan_1, "seed 5 leaves Tam Xuân I an open dossier to follow over the merger"

    crossing = sims.advance(24 * 7)

    # Every copy of the old units now lives with the successor, unchanged in receiving unit and code
    assert crossing.moved >= copies
    assert set(sims.store.units()) <= NEW
    after = sims.source_state()
    assert set(before) <= set(after)
    assert all(after[code].MaDonViTiepNhan == before[code].MaDonViTiepNhan for code in before)
    # The successor's system answers for the old unit's code (the hub's pushes still name it)
    code = open_at_tam_xuan_1[0]
    assert sims.source_copy("20968", code) == sims.source_copy("20971", code)
    # From 1 July new dossiers arrive only at the new units, with their agency identifiers
    midnight = datetime(2025, 7, 1, tzinfo=VN_TZ)
    july = [c for c in crossing.created_codes if (after[c].NgayNop or midnight) >= midnight]
    assert july and all(after[c].MaDonViTiepNhan in NEW and ".H48-" in c for c in july)
    assert all(after[c].MaDonViTiepNhan in OLD for c in crossing.created_codes if c not in july)
    # Old dossiers still open on 30 June were carried on by the successors' officers
    carried = [e for c in before for e in after[c].DanhSachTienDo if e.ThoiDiem >= datetime(2025, 7, 1, tzinfo=VN_TZ)]
    assert carried and {e.MaDonVi for e in carried} <= NEW
