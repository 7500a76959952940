"""PostgreSQL restarting under the pipeline: the work it cuts is retried as ``database_unavailable`` (never
"unexpected", which parks after three tries), and the integration log keeps every try."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from structlog.testing import capture_logs

from devtools.servers import PrivatePostgres
from hub.store.db import Database
from hub.store.models import Attempt, MessageState
from hub.sync import request_poll
from migrations import upgrade
from tests.hub.conftest import running_hub
from tests.hub.factories import COMMUNE, dossier_code, record
from tests.waiting import eventually


def test_a_database_restart_mid_delivery_is_retried_and_every_try_is_logged(
    private_postgres: PrivatePostgres,
) -> None:
    upgrade(private_postgres.url)
    db = Database(private_postgres.url)
    shut = threading.Event()

    def restart_at_first_push(operation: str, unit: str, code: str | None) -> Any:
        if operation == "push_dossiers" and code is not None and not shut.is_set():
            shut.set()
            private_postgres.shut_down()  # the portal takes the push; recording it finds the database away
        return None

    try:
        with capture_logs() as captured, running_hub(db) as hub:
            hub.portal.failures = restart_at_first_push
            code = dossier_code(COMMUNE, 41)
            hub.source.put(COMMUNE, record(code))

            # When the database goes away right after the portal took the dossier, and comes back once the failed
            # try is waiting to record its outcome
            request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
            eventually(
                lambda: any(e["event"] == "message_state_waiting_for_database" for e in captured),
                timeout=60,
                what="the failed try waits for the database to record its outcome",
            )
            private_postgres.start()
            hub.drain(timeout=120)

            # Then the delivery succeeded on its retry, the portal has the dossier once, no message was unexpected
            [delivery] = hub.messages(kind="deliver", dossier_code=code)
            assert delivery.state == MessageState.SUCCEEDED.value
            pushes = [c for c in hub.portal.calls if c.operation == "push_dossiers" and code in c.dossier_codes]
            assert len(pushes) == 1  # the retry found the push intent and the portal's copy: no second push
            assert [m.id for m in hub.messages() if m.error_class == "unexpected"] == []
            # and the integration log has both tries, the first one as the retryable database_unavailable
            with hub.db.session() as session:
                tries = session.execute(
                    select(Attempt.outcome, Attempt.error_class)
                    .where(Attempt.message_id == delivery.id)
                    .order_by(Attempt.number)
                ).all()
            assert [tuple(t) for t in tries] == [
                (MessageState.RETRYING.value, "database_unavailable"),
                (MessageState.SUCCEEDED.value, None),
            ]
        assert [e for e in captured if e["event"] == "attempt_row_lost"] == []
    finally:
        db.dispose()
