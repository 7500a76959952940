"""The one place the Dramatiq broker is built: Redis or RabbitMQ in production, in-process for the embedded default.

``get_broker()`` builds the broker from the settings once per process, registers the hub's middleware and calls
``dramatiq.set_broker`` — ``hub.actors`` calls it before declaring any actor, so importing the actors always
binds them to the right broker.
"""

from __future__ import annotations

import threading

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, ShutdownNotifications, TimeLimit
from dramatiq.rate_limits import ConcurrentRateLimiter
from dramatiq.rate_limits.backend import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from foundation.errors import ConfigurationError
from foundation.settings import Settings, get_settings
from hub.middleware import IntegrationLog

QUEUES = ("poll", "sync", "deliver")
MESSAGE_TIME_LIMIT_MS = 10 * 60 * 1000  # a message that runs longer than this is a bug or a hung remote

_lock = threading.Lock()
_broker: dramatiq.Broker | None = None
_backend: RateLimiterBackend | None = None


def _build(settings: Settings) -> tuple[dramatiq.Broker, RateLimiterBackend]:
    middleware = [
        TimeLimit(time_limit=MESSAGE_TIME_LIMIT_MS),
        ShutdownNotifications(),
        CurrentMessage(),
        IntegrationLog(),
    ]
    broker: dramatiq.Broker
    backend: RateLimiterBackend
    if settings.uses_redis:
        broker = RedisBroker(url=settings.broker_url, middleware=middleware)
        backend = RedisBackend(url=settings.broker_url)
    elif settings.uses_rabbitmq:
        if settings.redis_url is None:
            raise ConfigurationError(
                "DVC_HUB_REDIS_URL phải có khi dùng RabbitMQ: khóa giữa các tiến trình nằm ở Redis "
                "(DVC_HUB_REDIS_URL is required with RabbitMQ: the cross-process locks live in Redis)"
            )
        # Durable queues and persistent messages survive a broker restart; confirm_delivery makes enqueue wait for
        # RabbitMQ to take the message, so a message the log records as queued is really in the queue.
        broker = RabbitmqBroker(url=settings.broker_url, middleware=middleware, confirm_delivery=True)
        backend = RedisBackend(url=settings.redis_url)
    else:
        broker = StubBroker(middleware=middleware)
        broker.emit_after("process_boot")
        backend = StubBackend()
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker, backend


def get_broker() -> dramatiq.Broker:
    """The process's broker, built from the settings on first use and installed as Dramatiq's global broker."""
    global _broker, _backend
    with _lock:
        if _broker is None:
            _broker, _backend = _build(get_settings())
            dramatiq.set_broker(_broker)
        return _broker


def dossier_mutex(key: str, ttl_ms: int = 5 * 60 * 1000) -> ConcurrentRateLimiter:
    """A lock held across worker processes (Redis) or threads (embedded), one per dossier and target."""
    get_broker()
    assert _backend is not None  # set together with the broker
    return ConcurrentRateLimiter(_backend, f"dvc-hub:mutex:{key}", limit=1, ttl=ttl_ms)
