"""Stamp each message with the time it was first enqueued, which its retries keep: the retry policy's age."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

ENQUEUED = "hub_enqueued_ms"  # the option carrying the first enqueue's time, in milliseconds since the epoch


class EnqueueStamps(Middleware):
    """Stamp a message's first enqueue; a retry carries its original's stamp (:mod:`hub.middleware.outcomes`)."""

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        message.options.setdefault(ENQUEUED, int(time.time() * 1000))


def enqueued_at(message: MessageProxy) -> datetime:
    """When ``message`` was first enqueued (Dramatiq's own timestamp for a message enqueued without the stamp)."""
    millis = message.options.get(ENQUEUED) or message.message_timestamp
    return datetime.fromtimestamp(int(millis) / 1000, UTC)
