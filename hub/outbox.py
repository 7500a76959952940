"""The transactional outbox: a message is written to the integration log in the caller's transaction, and only
handed to the broker after that transaction commits.

If the process dies between the commit and :func:`dispatch`, the row stays ``pending`` and the reconciler hands it
over later; a message is therefore never lost, and at worst delivered twice, which the actors make harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.store.db import Database
from hub.store.models import Message, MessageState, utcnow

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
    """Write a pending message in the caller's transaction; it reaches the broker after commit, via dispatch."""
    actor, queue = KINDS[kind]
    message = Message(
        kind=kind,
        actor=actor,
        queue=queue,
        state=MessageState.PENDING.value,
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
    session.add(message)
    session.flush()  # assigns the id the broker message will carry
    return message


def dispatch(db: Database, message_ids: Sequence[int], *, delay_ms: int | None = None) -> int:
    """Hand committed messages to the broker and mark them queued; returns how many were sent.

    Only rows still pending (or re-sent by the reconciler) are sent, so a concurrent dispatch of the same ids by
    the reconciler costs at most one duplicate broker message, which the actors treat as a no-op.
    """
    if not message_ids:
        return 0
    from hub.broker import get_broker

    broker = get_broker()
    with db.session() as session:
        rows = session.execute(
            select(Message.id, Message.actor, Message.queue).where(Message.id.in_(list(message_ids)))
        ).all()
    now = utcnow()
    for message_id, actor, queue in rows:
        broker.enqueue(_broker_message(actor, queue, message_id), delay=delay_ms)
    with db.session() as session:
        session.execute(
            update(Message)
            .where(Message.id.in_([r.id for r in rows]), Message.state == MessageState.PENDING.value)
            .values(state=MessageState.QUEUED.value, enqueued_at=now, updated_at=now)
        )
    return len(rows)


def resend(db: Database, message_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Send messages again whatever their state (reconciler, resume of a paused target, replay)."""
    ids = list(message_ids)
    if not ids:
        return 0
    from hub.broker import get_broker

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
