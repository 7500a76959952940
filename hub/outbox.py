"""The transactional outbox: a message is written to the integration log in the caller's transaction, and only
handed to the broker (:func:`send`) after that transaction commits.

The row is written as ``queued``: if the process dies between the commit and :func:`send`, the reconciler finds a
queued message with no news for longer than its bound and sends it again. A message is therefore never lost, and at
worst delivered twice, which the actors make harmless. Sending costs no database write.

A worker claims a message before working on it (:mod:`hub.claims`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from foundation.clock import utcnow
from hub.broker import get_broker
from hub.claims import MESSAGES, RUNNING, M
from hub.store.db import Database
from hub.store.models import Message, MessageState

# kind → (actor name, queue): the actors are declared in hub.actors under these names.
KINDS: dict[str, tuple[str, str]] = {
    "poll": ("poll_unit", "poll"),
    "sync": ("sync_dossier", "sync"),
    "deliver": ("deliver_dossier", "deliver"),
    # the daily jobs the scheduler asks for (hub.actors, reports.actors)
    "daily_catalogue": ("refresh_catalogue", "daily"),
    "daily_retention": ("retain_log", "daily"),
    "daily_reconcile": ("reconcile_unit", "daily"),
    "daily_late_scan": ("scan_late", "daily"),
}
CARRIED = frozenset({"deliver"})  # kinds whose broker message carries the payload (see :func:`send`)


def record(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    dossier_code: str | None = None,
    dossier_version: int | None = None,
    unit_code: str | None = None,
    procedure_code: str | None = None,
    source: str | None = None,
    target: str | None = None,
    replay_of: int | None = None,
    replay_job_id: int | None = None,
    payload_redacted: dict[str, Any] | None = None,
) -> Message:
    """Write a queued message in the caller's transaction; hand it to :func:`send` after the commit."""
    actor, queue = KINDS[kind]
    message = Message(
        kind=kind,
        actor=actor,
        queue=queue,
        state=MessageState.QUEUED.value,
        enqueued_at=utcnow(),
        payload=payload,
        payload_redacted=payload_redacted,
        dossier_code=dossier_code,
        dossier_version=dossier_version,
        unit_code=unit_code,
        procedure_code=procedure_code,
        source=source,
        target=target,
        replay_of=replay_of,
        replay_job_id=replay_job_id,
    )
    session.add(message)  # its id, which the broker message carries, is assigned when the transaction flushes
    return message


def request(db: Database, kind: str, payload: dict[str, Any], **columns: Any) -> int:
    """Record a message of ``kind`` in its own transaction and hand it to the broker; returns its id. This is how
    the scheduler asks the hub to do something: the message's actor does the work, in the integration log."""
    with db.session() as session:
        message = record(session, kind=kind, payload=payload, **columns)
    send([message])
    return message.id


def send(messages: Iterable[Message]) -> int:
    """Hand committed messages to the broker; returns how many were sent."""
    broker = get_broker()
    sent = 0
    for message in messages:
        broker.enqueue(_broker_message(message.actor, message.queue, message.id, _carried(message)))
        sent += 1
    return sent


def _carried(message: Message) -> dict[str, Any] | None:
    """The payload a fresh delivery carries in its broker message, so that its worker claims it inside the batch's
    opening transaction instead of reading it first (a code, versions, system names: nothing personal). A sync is
    claimed before its fetch, which reads the payload anyway."""
    if message.kind in CARRIED and message.payload_redacted is None:
        return dict(message.payload)
    return None


def resend(db: Database, message_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Send again the messages that are still waiting (queued, retrying, held, or running on an expired lease).

    The reconciler and the resume of a paused target call this; a message that finished, is parked, or is running
    under a live lease is left alone, whatever the caller saw a moment ago.
    """
    ids = list(message_ids)
    if not ids:
        return 0
    broker = get_broker()
    now = now or utcnow()
    # Mark first, send after commit: a fast worker must never see its finished state overwritten by "queued".
    with db.session() as session:
        rows = session.execute(
            update(MESSAGES)
            .where(M.id.in_(ids), _may_be_queued(now))
            .values(state=MessageState.QUEUED.value, enqueued_at=now, updated_at=now, next_attempt_at=None)
            .returning(M.id, M.actor, M.queue)
        ).all()
    for message_id, actor, queue in rows:
        broker.enqueue(_broker_message(actor, queue, message_id))
    return len(rows)


def _may_be_queued(now: datetime) -> Any:
    """Waiting states that may become queued again; a running message only once its lease has expired."""
    waiting = [s for s in MessageState.QUEUED.sources() if s != RUNNING.value] + [MessageState.QUEUED.value]
    return or_(M.state.in_(waiting), and_(M.state == RUNNING.value, M.lease_until < now))


def _broker_message(
    actor: str, queue: str, message_id: int, payload: dict[str, Any] | None = None
) -> dramatiq.Message[Any]:
    kwargs = {} if payload is None else {"payload": payload}
    return dramatiq.Message(queue_name=queue, actor_name=actor, args=(message_id,), kwargs=kwargs, options={})
