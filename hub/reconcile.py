"""The reconciler: the integration log, not the broker, decides what still has to happen.

Messages the log shows as queued or waiting to retry for longer than the configured bound are sent again, so a Redis
restart that loses its data loses nothing and delays it by at most that bound. A running message is sent again only
once its lease has expired (its worker died or hung: a live worker renews the lease however long the work takes), and
a parked or finished one never (:data:`hub.store.models.TRANSITIONS`; :func:`hub.outbox.resend` enforces it in its
UPDATE, so a message that finished between this read and that write is left alone). Sending again is safe because
a copy must claim the message before working; held messages whose target is no longer paused are sent again too (a
worker may have held one just after the operator resumed).

A long backlog (hours of a portal outage) also leaves messages queued for longer than the bound, though they are
still in the broker; sending all of them again every round would flood the queues with duplicates. So when the
broker can say how many messages a queue holds, a queue holding at least what the log expects is left alone, and
only a queue that has lost messages (a Redis restart, a flush) is sent its stale ones again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from foundation.clock import utcnow
from foundation.logs import get_logger
from hub import control, outbox
from hub.store.db import Database
from hub.store.models import Message, MessageState

log = get_logger(__name__)

BATCH = 5000
# How far below the log's count a queue may be before it counts as having lost messages: messages recorded but not
# yet handed over make the log run a little ahead of a healthy broker (finishing ones err the other way).
SLACK_SHARE = 0.05

QueueDepth = Callable[[str], int]


@dataclass(frozen=True)
class Reconciled:
    stale: int
    unheld: int

    @property
    def total(self) -> int:
        return self.stale + self.unheld


def reconcile(
    db: Database, *, after_seconds: int, now: datetime | None = None, queue_depth: QueueDepth | None = None
) -> Reconciled:
    """Send again what has waited longer than ``after_seconds`` without news.

    ``queue_depth(queue)`` is how many messages the broker holds for a queue, when it can tell (Redis).
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=after_seconds)
    waiting = [state.value for state in MessageState if state.in_flight]
    with db.session() as session:
        stale = session.execute(
            select(Message.id, Message.queue)
            .where(
                or_(
                    and_(Message.state == MessageState.QUEUED.value, Message.updated_at < cutoff),
                    and_(Message.state == MessageState.RETRYING.value, Message.next_attempt_at < cutoff),
                )
            )
            .limit(BATCH)
        ).all()
        expired = (
            session.execute(
                select(Message.id).where(Message.state == MessageState.RUNNING.value, Message.lease_until < now)
            )
            .scalars()
            .all()
        )
        expected: Counter[str] = Counter()
        if queue_depth is not None and stale:
            rows = session.execute(
                select(Message.queue, func.count()).where(Message.state.in_(waiting)).group_by(Message.queue)
            )
            expected.update({queue: int(n) for queue, n in rows})
        held = session.execute(
            select(Message.id, Message.target).where(
                Message.state == MessageState.HELD.value, Message.updated_at < now - timedelta(seconds=5)
            )
        ).all()
    intact = _intact_queues(expected, queue_depth) if queue_depth is not None else set()
    lost = [mid for mid, queue in stale if queue not in intact] + list(expired)
    unheld = [mid for mid, target in held if target is None or not control.is_paused(db, target)]
    outbox.resend(db, lost + unheld, now=now)
    result = Reconciled(len(lost), len(unheld))
    if result.total or intact:
        log.info("reconciled", stale=result.stale, expired=len(expired), unheld=result.unheld, intact=sorted(intact))
    return result


def _intact_queues(expected: Counter[str], queue_depth: QueueDepth) -> set[str]:
    """The queues whose broker holds about as many messages as the log has waiting: nothing was lost there."""
    intact = set()
    for queue, count in expected.items():
        if queue_depth(queue) >= count - int(count * SLACK_SHARE):
            intact.add(queue)
    return intact
