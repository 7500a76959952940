"""Which waiting deliveries a batch's leader takes along: delivery's SQL reads the names that park from
foundation.errors' table, so one that met a parking error goes alone, whatever the process has imported."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from foundation.errors import ERROR_CLASSES, Action
from hub import delivery, outbox
from hub.store.db import Database
from hub.store.models import Message
from tests.hub.factories import COMMUNE, dossier_code

TARGET = "dvcqg"


def _waiting(db: Database, n: int, error_class: str | None) -> int:
    code = dossier_code(COMMUNE, n)
    with db.session() as session:
        message = outbox.record(
            session,
            kind="deliver",
            payload={"dossier_code": code, "version": 1, "target": TARGET},
            dossier_code=code,
            dossier_version=1,
            unit_code=COMMUNE,
            target=TARGET,
        )
        message.error_class = error_class  # what an earlier try of it met; it waits as queued again
        session.flush()
        return message.id


def _followers_of(db: Database, leader: int) -> set[int]:
    with db.session() as session, ExitStack() as locks:
        row = session.get(Message, leader)
        assert row is not None and row.dossier_code is not None
        taken = delivery._claim_followers(
            session, locks, (leader, row.dossier_code, 1), TARGET, COMMUNE, limit=10, lease=60
        )
    return {message_id for message_id, _, _ in taken}


@pytest.mark.parametrize("parking", sorted(name for name, action in ERROR_CLASSES.items() if action is Action.PARK))
def test_a_delivery_that_met_a_parking_error_is_not_taken_along(db: Database, parking: str) -> None:
    # Given a leader, a fresh delivery, one that met a transport failure and one that met a parking error
    leader = _waiting(db, 1, None)
    fresh = _waiting(db, 2, None)
    retried = _waiting(db, 3, "remote_timeout")
    parked_before = _waiting(db, 4, parking)
    # Then the batch takes the first two along and leaves the last to its own message
    assert _followers_of(db, leader) == {fresh, retried}
    with db.session() as session:
        alone = session.get(Message, parked_before)
        assert alone is not None and alone.state == "queued"
