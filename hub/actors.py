"""The hub's Dramatiq actors. Each takes a message id, and calls the plain function that does the work.

Importing this module builds the broker first (``hub.broker.get_broker``) and adds the middleware that runs around
the actors (:mod:`hub.middleware`), so the actors bind to the broker the settings choose. Retries are decided by
:class:`~hub.middleware.outcomes.Outcomes` from the error class, not by Dramatiq's default ``Retries``, which is not
installed.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from hub.broker import get_broker, renew_held
from hub.middleware.attempt_log import AttemptLog
from hub.middleware.leases import LeaseHeartbeat
from hub.middleware.log_context import LogContext
from hub.middleware.outcomes import Outcomes

# In this order: Dramatiq calls the after_ hooks in reverse, so a failure's outcome is decided before the lease is
# dropped, and the attempt row written (with that outcome) before the log context is cleared.
for _middleware in (LogContext(), AttemptLog(), LeaseHeartbeat(renew_locks=renew_held), Outcomes()):
    get_broker().add_middleware(_middleware)

from foundation.errors import HubError  # noqa: E402
from hub import attempts, catalogue, claims, context, delivery, retention, sync  # noqa: E402  (the broker must exist before actors are declared)

# Errors of the hub's own tree are expected outcomes, decided by the middleware: no traceback in the worker's log.
EXPECTED = (HubError,)


def outcome(state: str) -> None:
    """Tell the attempt-log middleware how the message ended (actors return nothing to the broker)."""
    record = attempts.current()
    if record is not None:
        record.outcome = state


@dramatiq.actor(actor_name="poll_unit", queue_name="poll", throws=EXPECTED)
def poll_unit(message_id: int) -> None:
    """Read a unit's change feed from its watermark and record a sync message per change."""
    outcome(sync.run_poll(context.current(), message_id))


@dramatiq.actor(actor_name="sync_dossier", queue_name="sync", throws=EXPECTED)
def sync_dossier(message_id: int) -> None:
    """Fetch a changed dossier, map it, apply it under the monotonic guard, fan out deliveries."""
    outcome(sync.run_sync(context.current(), message_id))


@dramatiq.actor(actor_name="deliver_dossier", queue_name="deliver", throws=EXPECTED)
def deliver_dossier(message_id: int, payload: dict[str, Any] | None = None) -> None:
    """Push one dossier revision to one target, exactly once."""
    outcome(delivery.run_delivery(context.current(), message_id, payload))


@dramatiq.actor(actor_name="refresh_catalogue", queue_name="daily", throws=EXPECTED)
def refresh_catalogue(message_id: int) -> None:
    """Read one of the portal's catalogues (procedures, agencies) and keep it."""
    outcome(catalogue.run_refresh(context.current(), message_id))


@dramatiq.actor(actor_name="retain_log", queue_name="daily", throws=EXPECTED)
def retain_log(message_id: int) -> None:
    """Seal yesterday's integration log, purge and archive what is past retention."""
    ctx = context.current()
    lease = ctx.settings.message_lease_seconds
    outcome(
        claims.run_claimed(ctx.db, message_id, lambda p: retention.job(ctx.db, ctx.settings, p), lease_seconds=lease)
    )
