"""A dossier stored before its procedure was mapped shows the national code its replayed deliveries carried."""

from __future__ import annotations

from console.queries import timeline
from hub import procedures, replay
from hub.sync import request_poll
from tests.hub.conftest import Hub
from tests.hub.factories import COMMUNE, dossier_code, record


def test_a_procedure_mapped_and_replayed_since_is_shown_with_its_national_code(hub: Hub) -> None:
    # Given a dossier whose procedure had no national code: its delivery parked
    code = dossier_code(COMMUNE, 21)
    hub.source.put(COMMUNE, record(code, procedure="NT-DD-099"))
    request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
    hub.drain()
    [parked] = hub.messages(kind="deliver", dossier_code=code)
    assert parked.error_class == "mapping_missing"
    # When the procedure is mapped and the delivery replayed
    procedures.set_mapping(hub.db, "NT-DD-099", "1.009999", user="operator")
    replay.replay_message(hub.db, parked.id, user="operator")
    hub.drain()
    # Then the timeline (dvc-hub dossier show) says what was delivered, not "→ —"
    with hub.db.session() as session:
        shown = timeline(session, code, personal=False)
    assert shown is not None and shown.dossier is not None
    assert shown.dossier["national_procedure_code"] == "1.009999"
    assert hub.portal.lookup(COMMUNE, code)["MaTTHC"] == "1.009999"  # type: ignore[index]
