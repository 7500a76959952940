"""The pipeline's own errors: a paused target (hold the message) and a message with nothing to do (skip it)."""

from __future__ import annotations

from foundation.errors import Action, HubError


class DeliveryPaused(HubError):
    """Raised when an operator has paused deliveries to a target; the message waits, it is not failed."""

    error_class = "delivery_paused"
    action = Action.HOLD


class SkipMessage(HubError):
    """Raised when a message has nothing left to do; it is recorded as skipped with the reason."""

    error_class = "skipped"
    action = Action.SKIP
