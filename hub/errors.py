"""The pipeline's own errors: a paused target (hold the message), a message with nothing to do (skip it), a source
that answered older than it announced (try again), and the two outcomes of a claim (:mod:`hub.claims`): held by
another worker, or lost by this one."""

from __future__ import annotations

from dramatiq.errors import RateLimitExceeded

from foundation.errors import Action, HubError


class DeliveryPaused(HubError):
    """Raised when an operator has paused deliveries to a target; the message waits, it is not failed."""

    error_class = "delivery_paused"
    action = Action.HOLD


class SkipMessage(HubError):
    """Raised when a message has nothing left to do; it is recorded as skipped with the reason."""

    error_class = "skipped"
    action = Action.SKIP


class ClaimedElsewhere(HubError, RateLimitExceeded):
    """Raised when another worker holds a message under a live lease; this copy comes back later, uncounted.

    A batch's followers meet it every few seconds: to Dramatiq it is what a busy lock is (logged at debug), never
    "Failed to process message" at info, which an operator reads as a failure.
    """

    error_class = "claimed_elsewhere"
    action = Action.RETRY


class StaleReplica(HubError):
    """Raised when a source answers an older revision of a dossier than its change feed announced (a lagging read
    replica); the sync is tried again later and the older record is never applied."""

    error_class = "stale_replica"
    action = Action.RETRY


class LeaseLost(HubError):
    """Raised when a worker ends a message whose lease it no longer holds; its work is rolled back, nothing else."""

    error_class = "lease_lost"
    action = Action.SKIP
