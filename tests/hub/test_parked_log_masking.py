"""A portal's refusal that quotes the applicant reaches the log masked, and the store verbatim (for operators)."""

from __future__ import annotations

from structlog.testing import capture_logs

from connectors.errors import RemoteRejected
from hub.store.models import MessageState
from hub.sync import request_poll
from tests.hub.conftest import Hub
from tests.hub.factories import COMMUNE, dossier_code, record


def test_a_parked_refusal_is_logged_without_the_applicants_id_phone_or_email(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    said = "Chủ hồ sơ CCCD 079203004567, ĐT 0912 345 678, email chau.duong@example.vn: sai mã thủ tục"
    hub.portal.fail("push_dossiers", RemoteRejected("portal refused", remote_message=said), dossier_code=code)
    rec = record(code)
    hub.source.put(COMMUNE, rec, updated_at=rec["NgayCapNhat"])

    with capture_logs() as captured:
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain()

    [delivery] = hub.messages(kind="deliver")
    assert delivery.state == MessageState.PARKED.value and delivery.remote_message == said
    [parked] = [e for e in captured if e["event"] == "message_parked"]
    logged = f"{parked['error']} {parked['remote_message']}"
    assert "sai mã thủ tục" in logged
    assert not [v for v in ("079203004567", "0912 345 678", "chau.duong@example.vn") if v in logged], logged
