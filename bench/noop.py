"""A no-op Dramatiq actor: the baseline the hub's throughput is compared with, on the same broker."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ.get("DVC_HUB_BROKER_URL", "redis://127.0.0.1:6379/14"))
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="bench-noop", max_retries=0)
def noop(n: int) -> None:
    """Does nothing: what is measured is the broker's and Dramatiq's own cost per message."""
