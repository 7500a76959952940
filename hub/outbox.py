"""The transactional outbox: a message is written to the integration log in the caller's transaction, and only
handed to the broker (:func:`send`) after that transaction commits.

The row is written as ``queued``: if the process dies between the commit and :func:`send`, the reconciler finds a
queued message with no news for longer than its bound and sends it again. A message is therefore never lost, and at
worst delivered twice, which the actors make harmless. Sending costs no database write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foundation.clock import utcnow
from hub.broker import get_broker
from hub.store.db import Database
from hub.store.models import Message, MessageState

# kind → (actor name, queue): the actors are declared in hub.actors under these names.
KINDS: dict[str, tuple[str, str]] = {
    "poll": ("poll_unit", "poll"),
    "sync": ("sync_dossier", "sync"),
    "deliver": ("deliver_dossier", "deliver"),
}


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


def send(messages: Iterable[Message]) -> int:
    """Hand committed messages to the broker; returns how many were sent."""
    broker = get_broker()
    sent = 0
    for message in messages:
        broker.enqueue(_broker_message(message.actor, message.queue, message.id))
        sent += 1
    return sent


def resend(db: Database, message_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Send messages again whatever their state (reconciler, resume of a paused target, replay)."""
    ids = list(message_ids)
    if not ids:
        return 0
    broker = get_broker()
    now = now or utcnow()
    # Mark first, send after commit: a fast worker must never see its finished state overwritten by "queued".
    with db.session() as session:
        rows = session.execute(select(Message.id, Message.actor, Message.queue).where(Message.id.in_(ids))).all()
        session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(state=MessageState.QUEUED.value, enqueued_at=now, updated_at=now, next_attempt_at=None)
        )
    for message_id, actor, queue in rows:
        broker.enqueue(_broker_message(actor, queue, message_id))
    return len(rows)


def _broker_message(actor: str, queue: str, message_id: int) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue, actor_name=actor, args=(message_id,), kwargs={}, options={})


def claim(db: Database, message_id: int) -> dict[str, Any] | None:
    """The payload of a message that still has work to do; None for one already finished (a duplicate delivery)."""
    with db.session() as session:
        row = session.execute(select(Message.state, Message.payload).where(Message.id == message_id)).one_or_none()
    if row is None or not MessageState(row.state).in_flight:
        return None
    return dict(row.payload)


def finish(session: Session, message_id: int, state: MessageState, result: dict[str, Any], **columns: Any) -> None:
    """Record how a message ended, in the caller's transaction (with the work it describes)."""
    now = utcnow()
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(
            state=state.value, attempts=Message.attempts + 1, finished_at=now, updated_at=now, result=result, **columns
        )
    )
