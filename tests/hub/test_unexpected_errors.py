"""An unexpected exception (a bug, not the remote) is parked after a few attempts, never retried for a day."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.store.models import Attempt, MessageState
from hub.sync import request_poll
from tests.hub.conftest import Hub
from tests.hub.factories import COMMUNE, dossier_code, record


def test_an_unexpected_exception_is_parked_after_three_attempts_without_its_text(hub: Hub) -> None:
    # Given a portal connector with a bug whose message quotes a value
    def bug(operation: str, unit: str, code: str | None) -> Any:
        if operation == "push_dossiers":
            raise KeyError("giá trị của hồ sơ")
        return None

    hub.portal.failures = bug
    code = dossier_code(COMMUNE, 31)
    hub.source.put(COMMUNE, record(code))
    # When it is delivered (the hub under test allows 5 retryable attempts)
    request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
    hub.drain()
    # Then it is parked at the third attempt as "unexpected", and the log keeps the type, not the text
    [delivery] = hub.messages(kind="deliver", dossier_code=code)
    assert delivery.state == MessageState.PARKED.value
    assert delivery.error_class == "unexpected"
    assert delivery.attempts == 3
    assert "KeyError" in (delivery.error_message or "")
    assert "giá trị của hồ sơ" not in (delivery.error_message or "")
    with hub.db.session() as session:
        outcomes = list(
            session.scalars(select(Attempt.outcome).where(Attempt.message_id == delivery.id).order_by(Attempt.number))
        )
    assert outcomes == ["retrying", "retrying", "parked"]
