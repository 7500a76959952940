"""The message life cycle under a reconciler far more impatient than the work: a message runs once, whatever copies
of it the reconciler or the broker send meanwhile, and a parked message stays parked until a replay."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from connectors.errors import RemoteRejected
from foundation.errors import HubError
from hub import outbox
from hub.reconcile import reconcile
from hub.store.db import Database
from hub.store.models import TRANSITIONS, Attempt, Message, MessageState
from systems.fake.connector import FakeConnector
from tests.hub.conftest import Hub, running_hub
from tests.hub.factories import COMMUNE, dossier_code, record
from tests.waiting import eventually

pytestmark = pytest.mark.slow

ROUNDS = 20
WORK_SECONDS = 5  # the work outlasts the reconcile bound (1 s) five times over
LEASE_SECONDS = 3  # renewed every 0.75 s; still far shorter than the work, so only renewal keeps it


class SlowSource:
    """The source's fetch of one dossier blocks until the test lets it go, then answers or refuses it."""

    def __init__(self) -> None:
        self.code: str | None = None
        self.refuse = False
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, operation: str, unit: str, code: str | None) -> HubError | None:
        if operation != "get_dossier" or code is None or code != self.code:
            return None
        self.started.set()
        if not self.release.wait(timeout=60):
            raise AssertionError("the test never released the fetch")
        if self.refuse:
            return RemoteRejected("bản ghi bị từ chối (record refused)", remote_message="refused", dossier_code=code)
        return None


def _sync_message(hub: Hub, code: str) -> Message:
    [message] = hub.messages(kind="sync", dossier_code=code)
    return message


def _lease(db: Database, message_id: int) -> datetime | None:
    with db.session() as session:
        return session.execute(select(Message.lease_until).where(Message.id == message_id)).scalar_one()


def _tries(db: Database, message_id: int) -> int:
    with db.session() as session:
        return int(
            session.execute(
                select(func.count()).select_from(Attempt).where(Attempt.message_id == message_id)
            ).scalar_one()
        )


def test_a_message_outlasting_the_reconcile_bound_runs_once_and_ends_once_20_times_in_a_row(db: Database) -> None:
    slow = SlowSource()
    source = FakeConnector("motcua-quangnam", failures=slow)
    with running_hub(db, source=source, reconcile_after_seconds=1, message_lease_seconds=LEASE_SECONDS) as hub:
        for n in range(1, ROUNDS + 1):
            # Given a sync whose fetch takes five times the reconcile bound, every other one refused in the end
            code = dossier_code(COMMUNE, n)
            slow.code, slow.refuse = code, n % 2 == 0
            slow.started.clear()
            slow.release.clear()
            hub.source.put(COMMUNE, record(code))
            outbox.send([_poll(hub)])
            assert slow.started.wait(timeout=30), f"round {n}: the fetch never started"
            message = _sync_message(hub, code)

            # When the work goes on while the reconciler runs (in the background, and here) and a duplicate
            # broker message arrives, until the heartbeat has renewed the lease for the whole work time
            first_lease = _lease(hub.db, message.id)
            assert first_lease is not None
            outbox.send([message])

            def renewed_through_the_work(mid: int = message.id, n: int = n, first: datetime = first_lease) -> bool:
                reconcile(hub.db, after_seconds=1)
                assert hub.messages(id=mid)[0].state == MessageState.RUNNING.value, f"round {n}"
                return (_lease(hub.db, mid) or first) >= first + timedelta(seconds=WORK_SECONDS - 1)

            eventually(renewed_through_the_work, timeout=WORK_SECONDS * 6, what=f"round {n}: lease renewed")
            slow.release.set()
            hub.drain(timeout=30)

            # Then it was fetched once, tried once, and ended once: parked stays parked, succeeded stays succeeded
            ended = MessageState.PARKED if slow.refuse else MessageState.SUCCEEDED
            fetches = [c for c in hub.source.calls if c.operation == "get_dossier" and code in c.dossier_codes]
            assert len(fetches) == 1, f"round {n}: fetched {len(fetches)} times"
            for _ in range(3):
                reconcile(hub.db, after_seconds=0)
            hub.drain(timeout=30)
            final = hub.messages(id=message.id)[0]
            assert (final.state, final.attempts) == (ended.value, 1), f"round {n}"
            eventually(
                lambda mid=message.id: _tries(hub.db, mid) == 1,  # type: ignore[misc]
                timeout=30,
                what=f"round {n}: one attempt row",
            )
            pushed = [c for c in hub.portal.calls if c.operation == "push_dossiers" and code in c.dossier_codes]
            assert len(pushed) == (0 if slow.refuse else 1), f"round {n}"


def _poll(hub: Hub) -> Message:
    with hub.db.session() as session:
        return outbox.record(
            session, kind="poll", payload={"system": "motcua-quangnam", "unit_code": COMMUNE}, unit_code=COMMUNE
        )


def test_the_life_cycle_lets_a_parked_message_change_only_by_a_replay_or_an_operator() -> None:
    assert TRANSITIONS[MessageState.PARKED] == {MessageState.REPLAYED, MessageState.CANCELLED}
    assert MessageState.RUNNING.sources() == (MessageState.QUEUED.value, MessageState.RETRYING.value)
    finished = [MessageState.SUCCEEDED, MessageState.SKIPPED, MessageState.REPLAYED, MessageState.CANCELLED]
    assert all(TRANSITIONS[state] == frozenset() for state in finished)


def test_resend_leaves_parked_finished_and_live_running_messages_alone(db: Database) -> None:
    # Given one message in each state, the running one under a live lease and another under an expired one
    now = datetime.now().astimezone()
    ids: dict[str, int] = {}
    with db.session() as session:
        for state in MessageState:
            message = outbox.record(session, kind="poll", payload={})
            message.state = state.value
            message.lease_until = now + timedelta(minutes=5) if state is MessageState.RUNNING else None
            session.flush()
            ids[state.value] = message.id
        expired = outbox.record(session, kind="poll", payload={})
        expired.state, expired.lease_until = MessageState.RUNNING.value, now - timedelta(seconds=1)
        session.flush()
        ids["expired"] = expired.id

    # When everything is sent again (to the in-process broker, which no worker reads here)
    sent = outbox.resend(db, ids.values())
    with db.session() as session:
        by_id = {mid: state for mid, state in session.execute(select(Message.id, Message.state))}
    states = {name: by_id[mid] for name, mid in ids.items()}

    # Then only what was waiting (or running on a dead worker's lease) was queued again
    assert sent == 4  # queued, retrying, held, expired
    for untouched in ("parked", "succeeded", "skipped", "replayed", "cancelled", "running"):
        assert states[untouched] == untouched
