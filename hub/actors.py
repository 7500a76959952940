"""The hub's Dramatiq actors. Each takes a message id, and calls the plain function that does the work.

Importing this module builds the broker first (``hub.broker.get_broker``), so the actors bind to the broker the
settings choose. Retries are decided by the integration-log middleware from the error class, not by Dramatiq's
default ``Retries``, which is not installed.
"""

from __future__ import annotations

import dramatiq

from hub.broker import get_broker

get_broker()

from hub import context, delivery, sync  # noqa: E402  (the broker must exist before actors are declared)


@dramatiq.actor(actor_name="poll_unit", queue_name="poll")
def poll_unit(message_id: int) -> str:
    """Read a unit's change feed from its watermark and record a sync message per change."""
    return sync.run_poll(context.current(), message_id)


@dramatiq.actor(actor_name="sync_dossier", queue_name="sync")
def sync_dossier(message_id: int) -> str:
    """Fetch a changed dossier, map it, apply it under the monotonic guard, fan out deliveries."""
    return sync.run_sync(context.current(), message_id)


@dramatiq.actor(actor_name="deliver_dossier", queue_name="deliver")
def deliver_dossier(message_id: int) -> str:
    """Push one dossier revision to one target, exactly once."""
    return delivery.run_delivery(context.current(), message_id)
