"""A refusal inside a batch costs only the refused record's own retry (#22, point 4 / Done-when 4): the portal that
stores a batch's good records and names the bad one gets no record twice, and "đã tồn tại" for a copy that already
says what was sent is the success it is, never an update push."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from foundation.topology import System, load
from hub import control, procedures
from hub.store.db import Database
from hub.store.models import MessageState
from hub.sync import request_poll
from simulators.server import Simulators
from systems import registry
from tests.conftest import TOPOLOGIES
from tests.hub.conftest import running_hub
from tests.hub.factories import COMMUNE, dossier_code, record

PORTAL = "dvcqg"


@pytest.fixture
def sims(start_simulators: type[Simulators], monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulators]:
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_USERNAME", "hub")
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_PASSWORD", "hub-secret")
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=3, dossiers=0) as running:
        yield running


def _url_portal(sims: Simulators) -> System:
    """The URL-per-operation portal: creates answer "đã tồn tại" for a dossier it has (the case to avoid)."""
    return System(
        name=PORTAL, kind="dvcqg-url", base_url=f"{sims.portal_url}/api", credentials="dvcqg", batch_size=50, timeout=10
    )


def test_a_batch_of_fifty_with_one_refused_pushes_each_stored_record_once(db: Database, sims: Simulators) -> None:
    # Given a portal that stores a batch's good records and answers with the one it refused, by its code
    codes = [dossier_code(COMMUNE, n) for n in range(1, 51)]
    refused = codes[-1]
    sims.portal_state.batch_answer = "named"
    sims.portal_state.refuse[refused] = ("27", f"Hồ sơ {refused}: dữ liệu không hợp lệ (malformed record)")
    national = sims.catalogue.procedures[0].national_code
    with running_hub(db, threads=1, portal_over=registry.build_target(_url_portal(sims))) as hub:
        procedures.set_mapping(db, "NT-HT-001", national, field_code="HT", field_name="Hộ tịch", user="test")
        # and fifty deliveries waiting at once (held during a pause, then resumed together)
        control.pause_target(hub.db, PORTAL, reason="test", user="test")
        for code in codes:
            hub.source.put(COMMUNE, record(code), updated_at=record(code)["NgayCapNhat"])
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=60)

        # When the portal is resumed
        control.resume_target(hub.db, PORTAL, user="test")
        hub.drain(timeout=120)
        states = {m.dossier_code: m.state for m in hub.messages(kind="deliver", target=PORTAL)}

    # Then the 49 were sent once each and stored once, the refused one went in the batch and once alone (its own
    # retry, which parks it), and no push was answered "đã tồn tại"
    stats = sims.portal_stats()
    received = stats["received"]
    assert {code: received.get(code, 0) for code in codes if code != refused} == {c: 1 for c in codes[:-1]}
    assert received[refused] == 2
    assert sum(received.values()) == 51
    assert stats["refused"].get("24", 0) == 0
    assert stats["duplicates"] == []
    assert set(sims.portal_dossiers()) == set(codes[:-1])
    assert states.pop(refused) == MessageState.PARKED.value
    assert set(states.values()) == {MessageState.SUCCEEDED.value}


def test_already_there_with_the_same_content_is_success_and_no_update_push(sims: Simulators) -> None:
    # Given a record the portal stored although its answer never reached the hub
    portal = registry.build_target(_url_portal(sims))
    code = dossier_code(COMMUNE, 1)
    national = sims.catalogue.procedures[0].national_code
    sent = {
        "MaHoSo": code,
        "MaTTHC": national,
        "TenTTHC": "Đăng ký khai sinh",
        "ChuHoSo": "Nguyễn Văn An",
        "KenhThucHien": "1",
        "TrangThaiHoSo": "2",
        "NgayTiepNhan": "20240304080000",
    }
    assert portal.push_dossiers(COMMUNE, [sent])[0].ok
    # When the hub, not knowing (a restored database), creates it again, and then creates a changed revision
    again = portal.push_dossiers(COMMUNE, [sent], existing=set())
    changed = portal.push_dossiers(COMMUNE, [{**sent, "TrangThaiHoSo": "4"}], existing=set())
    # and pushes it once more without saying what the portal has (the connector looks it up first)
    looked_up = portal.push_dossiers(COMMUNE, [{**sent, "TrangThaiHoSo": "4"}])

    # Then the same content is a success with no update push; the changed one is updated
    assert again[0].ok and not again[0].created
    assert changed[0].ok and not changed[0].created
    assert looked_up[0].ok and not looked_up[0].created
    stats = sims.portal_stats()
    assert stats["duplicates"] == []
    assert stats["received"][code] == 4  # create, create ("đã tồn tại"), create ("đã tồn tại"), update
    assert str(sims.portal_dossiers()[code]["TrangThaiHoSo"]) == "4"
