"""A worker's claim on a message of the integration log: one conditional UPDATE makes it ``running`` with a lease
that the process's heartbeat renews (:class:`Leases`). A second copy of the broker message finds it running and comes
back later; a finished one is a no-op; and only the claim's holder can end it (:func:`finish`), so a copy sent while
the work was still going on can never run it twice nor overwrite its outcome.

The sending side is :mod:`hub.outbox`. This module needs no broker, so the broker's own middleware can use it.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, or_, select, update
from sqlalchemy.orm import Session

from foundation.clock import utcnow
from foundation.errors import HubError
from foundation.logs import get_logger
from hub.errors import ClaimedElsewhere, LeaseLost
from hub.store.db import Database
from hub.store.models import TRANSITIONS, Message, MessageState

log = get_logger(__name__)

RUNNING = MessageState.RUNNING
# The hot statements below are Core statements on the table: the ORM's bulk-update path costs several times more
# Python per statement than the SQL itself.
MESSAGES = cast(Table, Message.__table__)
M = MESSAGES.c
# host:pid:random: a restarted container reuses its pid, never the random part
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def holder() -> str:
    """Who claims a message: this worker thread (a thread works on one message at a time)."""
    return f"{PROCESS_ID}:{threading.current_thread().name}"


def claimable(now: datetime) -> Any:
    """A message that may be claimed: waiting, or running on a lease nobody renewed (its worker died)."""
    waiting = [s for s in RUNNING.sources() if s != RUNNING.value]
    return or_(M.state.in_(waiting), and_(M.state == RUNNING.value, M.lease_until < now))


def claim(db: Database, message_id: int, *, lease_seconds: float, now: datetime | None = None) -> dict[str, Any] | None:
    """Make a message ``running`` under this thread's lease and return its payload; None when it has finished.

    Raises :class:`ClaimedElsewhere` when another worker holds it under a live lease (a duplicate broker message):
    the copy comes back later, and finds the message finished, or the lease expired because that worker died.
    """
    now = now or utcnow()
    with db.session() as session:
        payload = session.execute(
            update(MESSAGES)
            .where(M.id == message_id, claimable(now))
            .values(state=RUNNING.value, lease_until=now + timedelta(seconds=lease_seconds), claimed_by=holder())
            .returning(M.payload)
        ).scalar_one_or_none()
        if payload is not None:
            return dict(payload)
        state = session.execute(select(M.state).where(M.id == message_id)).scalar_one_or_none()
    if state == RUNNING.value:
        raise ClaimedElsewhere(f"Thông điệp {message_id} đang được xử lý (message {message_id} is being processed)")
    return None


def claim_in(session: Session, message_id: int, *, lease_seconds: float, returning: Any = M.id) -> Row[Any] | None:
    """Claim a message in the caller's transaction (the work's own), or confirm that this thread holds it already;
    returns the ``returning`` column of its row, or None when it has finished (the caller does nothing). Raises
    :class:`ClaimedElsewhere` when another worker holds it under a live lease. The claim's row lock lasts to the
    commit, so of two copies of a broker message working at once, one commits its work and the other finds the
    message finished."""
    now = utcnow()
    claimed = session.execute(
        update(MESSAGES)
        .where(M.id == message_id, or_(claimable(now), and_(M.state == RUNNING.value, M.claimed_by == holder())))
        .values(state=RUNNING.value, lease_until=now + timedelta(seconds=lease_seconds), claimed_by=holder())
        .returning(returning)
    ).one_or_none()
    if claimed is not None:
        return claimed
    state = session.execute(select(M.state).where(M.id == message_id)).scalar_one_or_none()
    if state == RUNNING.value:
        raise ClaimedElsewhere(f"Thông điệp {message_id} đang được xử lý (message {message_id} is being processed)")
    return None


def claim_many(session: Session, message_ids: list[int], *, lease_seconds: float) -> dict[int, dict[str, Any]]:
    """Claim several waiting messages for this thread in the caller's transaction (a batch leader's followers)."""
    if not message_ids:
        return {}
    now = utcnow()
    rows = session.execute(
        update(MESSAGES)
        .where(M.id.in_(message_ids), M.state.in_([s for s in RUNNING.sources() if s != RUNNING.value]))
        .values(state=RUNNING.value, lease_until=now + timedelta(seconds=lease_seconds), claimed_by=holder())
        .returning(M.id, M.payload)
    ).all()
    return {message_id: dict(payload) for message_id, payload in rows}


def release(db: Database, message_ids: Iterable[int]) -> None:
    """Give claimed messages back as queued (a batch follower left for its own message; a busy dossier lock)."""
    ids = list(message_ids)
    if ids:
        with db.session() as session:
            release_in(session, ids)


def release_in(session: Session, message_ids: list[int]) -> None:
    """:func:`release` in the caller's transaction."""
    if message_ids:
        session.execute(
            update(MESSAGES)
            .where(M.id.in_(message_ids), M.state == RUNNING.value, M.claimed_by == holder())
            .values(state=MessageState.QUEUED.value, lease_until=None)
        )


def release_refused(db: Database, refusals: dict[int, HubError]) -> None:
    """Give back batch followers the target refused as ``retrying``, each with its refusal recorded: the console
    shows why it waits, and only ``queued`` messages are taken as followers, so its own message tries it alone (and
    parks it if the target refuses it again) instead of it riding along in batch after batch. Not a try of its own:
    its attempts are not counted."""
    if not refusals:
        return
    now = utcnow()
    with db.session() as session:
        for message_id, error in refusals.items():
            session.execute(
                update(MESSAGES)
                .where(M.id == message_id, M.state == RUNNING.value, M.claimed_by == holder())
                .values(
                    state=MessageState.RETRYING.value,
                    lease_until=None,
                    next_attempt_at=now,
                    updated_at=now,
                    error_class=error.error_class,
                    error_message=str(error),
                    remote_message=error.remote_message,
                )
            )


def finish(session: Session, message_id: int, state: MessageState, result: dict[str, Any], **columns: Any) -> None:
    """Record how a message ended, in the caller's transaction (with the work it describes).

    Only the claim's holder may end it: if the lease was lost (this worker stalled past it and another took the
    message over), :class:`LeaseLost` rolls the caller's work back.
    """
    now = utcnow()
    changed = session.execute(
        update(MESSAGES)
        .where(M.id == message_id, M.state == RUNNING.value, M.claimed_by == holder())
        .values(
            state=state.value,
            attempts=M.attempts + 1,
            finished_at=now,
            updated_at=now,
            lease_until=None,
            result=result,
            **columns,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"Thông điệp {message_id} không còn do luồng này giữ (lease on message {message_id} lost)")


def end_claim(session: Session, message_id: int, values: dict[str, Any]) -> bool:
    """End this thread's claim on a message with ``values`` (a failure's outcome); False if it holds none.

    A message whose work failed before its transaction claimed it (a sync's fetch, a delivery's pause) is still
    waiting, and ends the same way, unless another worker has claimed or finished it meanwhile."""
    if MessageState(values["state"]) not in TRANSITIONS[RUNNING]:
        raise ValueError(f"a running message cannot become {values['state']}")
    mine = and_(M.state == RUNNING.value, M.claimed_by == holder())
    changed = session.execute(
        update(MESSAGES).where(M.id == message_id, or_(mine, claimable(utcnow()))).values(lease_until=None, **values)
    )
    return bool(changed.rowcount == 1)  # type: ignore[attr-defined]


class Leases:
    """The heartbeat that renews the leases this process holds, every quarter of a lease, from one thread, and with
    them the dossier locks it holds (``renew_locks``: :func:`hub.broker.renew_held`, which owns them)."""

    def __init__(self, db: Database, *, lease_seconds: float, renew_locks: Callable[[], int]) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.renew_locks = renew_locks
        self._holders: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def hold(self) -> None:
        """The calling thread starts working on a message (its claims are renewed until :meth:`drop`)."""
        with self._lock:
            me = holder()
            self._holders[me] = self._holders.get(me, 0) + 1

    def drop(self) -> None:
        with self._lock:
            me = holder()
            if self._holders.get(me, 0) <= 1:
                self._holders.pop(me, None)
            else:
                self._holders[me] -= 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def renew(self) -> int:
        """Push the leases of every message this process's working threads hold; returns how many."""
        with self._lock:
            holders = list(self._holders)
        if not holders:
            return 0
        with self.db.session() as session:
            changed = session.execute(
                update(MESSAGES)
                .where(M.state == RUNNING.value, M.claimed_by.in_(holders))
                .values(lease_until=utcnow() + timedelta(seconds=self.lease_seconds))
            )
        return int(changed.rowcount)  # type: ignore[attr-defined]

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 4):
            try:
                self.renew()
            except Exception:  # a database hiccup must not stop the heartbeat; the next beat tries again
                log.warning("lease_renewal_failed", exc_info=True)
            try:
                self.renew_locks()
            except Exception:  # nor a broker hiccup: a lock expires only after a whole lease without a renewal
                log.warning("lock_renewal_failed", exc_info=True)


def run_claimed(
    db: Database, message_id: int, work: Callable[[dict[str, Any]], dict[str, Any]], *, lease_seconds: float
) -> str:
    """A job message's life in a worker (a daily job's): claim it, run ``work`` on its payload, finish it with the
    summary ``work`` returns. A message already finished (a duplicate broker message) is not run again: "noop".
    A failure leaves the claim to the outcomes middleware, which retries or parks the message by its error."""
    payload = claim(db, message_id, lease_seconds=lease_seconds)
    if payload is None:
        return "noop"
    result = work(payload)
    with db.session() as session:
        finish(session, message_id, MessageState.SUCCEEDED, result)
    return MessageState.SUCCEEDED.value
