"""The reconciler: the integration log, not the broker, decides what still has to happen.

Messages the log shows as pending, queued, in flight or waiting to retry for longer than the configured bound are
sent again, so a Redis restart that loses its data, or a worker killed mid-message, loses nothing and delays it by
at most that bound. Sending again is safe because every actor is idempotent; held messages whose target is no
longer paused are sent again too (a worker may have held one just after the operator resumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from hub import control, outbox
from hub.logs import get_logger
from hub.store.db import Database
from hub.store.models import Message, MessageState, utcnow

log = get_logger(__name__)

BATCH = 5000


@dataclass(frozen=True)
class Reconciled:
    pending: int
    stale: int
    unheld: int

    @property
    def total(self) -> int:
        return self.pending + self.stale + self.unheld


def reconcile(db: Database, *, after_seconds: int, now: datetime | None = None) -> Reconciled:
    """Send again what has waited longer than ``after_seconds`` without news."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=after_seconds)
    pending_cutoff = now - timedelta(seconds=min(after_seconds, 30))
    with db.session() as session:
        pending = list(
            session.scalars(
                select(Message.id)
                .where(Message.state == MessageState.PENDING.value, Message.created_at < pending_cutoff)
                .limit(BATCH)
            )
        )
        stale = list(
            session.scalars(
                select(Message.id)
                .where(
                    or_(
                        and_(
                            Message.state.in_([MessageState.QUEUED.value, MessageState.RUNNING.value]),
                            Message.updated_at < cutoff,
                        ),
                        and_(Message.state == MessageState.RETRYING.value, Message.next_attempt_at < cutoff),
                    )
                )
                .limit(BATCH)
            )
        )
        held = session.execute(
            select(Message.id, Message.target).where(
                Message.state == MessageState.HELD.value, Message.updated_at < now - timedelta(seconds=5)
            )
        ).all()
    unheld = [mid for mid, target in held if target is None or not control.is_paused(db, target)]
    outbox.resend(db, pending + stale + unheld, now=now)
    result = Reconciled(len(pending), len(stale), len(unheld))
    if result.total:
        log.info("reconciled", pending=result.pending, stale=result.stale, unheld=result.unheld)
    return result
