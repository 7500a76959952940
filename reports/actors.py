"""The reports' daily jobs as the hub's actors: the reconciliation of a unit, and the late-dossier scan. Each takes a
message id and calls the plain function that does the work; the hub's middleware records every try."""

from __future__ import annotations

import dramatiq

from hub import context
from hub.actors import EXPECTED, outcome  # the broker, with the middleware around the actors, is built first
from reports import late, scheduled


@dramatiq.actor(actor_name="reconcile_unit", queue_name="daily", throws=EXPECTED)
def reconcile_unit(message_id: int) -> None:
    """Compare one unit's dossiers of a day at its one-stop-shop with the portal's copies."""
    outcome(scheduled.run_reconcile(context.current(), message_id))


@dramatiq.actor(actor_name="scan_late", queue_name="daily", throws=EXPECTED)
def scan_late(message_id: int) -> None:
    """Keep the month's late-dossier register for the console."""
    outcome(late.run_scan(context.current(), message_id))
