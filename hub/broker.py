"""The one place the Dramatiq broker is built: Redis or RabbitMQ in production, in-process for the embedded default.

``get_broker()`` builds the broker from the settings once per process with the middleware every process needs (the
enqueue stamps) and calls ``dramatiq.set_broker``. A process that only enqueues (the scheduler, the console) needs
nothing more; ``hub.actors`` adds the middleware that runs around the actors before declaring any, so importing the
actors always binds them to the right broker, with the integration log around them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
from hub.middleware.stamps import EnqueueStamps

QUEUES = ("poll", "sync", "deliver", "daily")
MESSAGE_TIME_LIMIT_MS = 10 * 60 * 1000  # a message that runs longer than this is a bug or a hung remote
# Out of a million Redis broker commands, how many also run Dramatiq's maintenance, which gives the messages a dead
# worker had taken (prefetched or in hand) back to their queue once its heartbeat is a minute old. Dramatiq's default
# (1,000: one command in a thousand) left them waiting for minutes after a worker was killed, and the reconciler
# does not send them again meanwhile (Redis still counts them). One in twenty costs a sorted-set look-up per twenty
# commands.
REDIS_MAINTENANCE_CHANCE = 50_000

_lock = threading.Lock()
_broker: dramatiq.Broker | None = None
_backend: RateLimiterBackend | None = None


def _build(settings: Settings) -> tuple[dramatiq.Broker, RateLimiterBackend]:
    middleware = [
        TimeLimit(time_limit=MESSAGE_TIME_LIMIT_MS),
        ShutdownNotifications(),
        CurrentMessage(),
        EnqueueStamps(),
    ]
    broker: dramatiq.Broker
    backend: RateLimiterBackend
    if settings.uses_redis:
        broker = RedisBroker(
            url=settings.broker_url, middleware=middleware, maintenance_chance=REDIS_MAINTENANCE_CHANCE
        )
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


def dossier_mutex(key: str, *, lease_seconds: float) -> DossierMutex:
    """A lock held across worker processes (Redis) or threads (embedded), one per dossier and target (or per polled
    unit), living one message lease at a time (the worker's heartbeat renews it)."""
    get_broker()
    assert _backend is not None  # set together with the broker
    return DossierMutex(_backend, key, ttl_ms=int(lease_seconds * 1000))


def singleton(key: str, ttl_ms: int) -> ConcurrentRateLimiter:
    """A lock that one process takes for a while (the reconciler's turn), left to expire after ``ttl_ms``."""
    get_broker()
    assert _backend is not None  # set together with the broker
    return ConcurrentRateLimiter(_backend, f"dvc-hub:mutex:{key}", limit=1, ttl=ttl_ms)


class DossierMutex:
    """A dossier's lock, kept alive while its holder lives.

    Its time to live is one message lease, and the worker's lease heartbeat renews every lock this process holds
    (:func:`renew_held`), like the leases themselves. A lock therefore lasts as long as the work inside it, however
    long, and a killed worker's locks free themselves within a lease — not after minutes during which every later
    version of its dossiers would wait.
    """

    def __init__(self, backend: RateLimiterBackend, key: str, *, ttl_ms: int) -> None:
        self.backend = backend
        self.key = f"dvc-hub:mutex:{key}"
        self.ttl_ms = ttl_ms
        self._limiter = ConcurrentRateLimiter(backend, self.key, limit=1, ttl=ttl_ms)

    @contextmanager
    def acquire(self, *, raise_on_failure: bool = True) -> Iterator[bool]:
        """Hold the lock for the block; busy: raise ``RateLimitExceeded`` (the message comes back later), or yield
        False with ``raise_on_failure=False``."""
        with self._limiter.acquire(raise_on_failure=raise_on_failure) as acquired:
            if not acquired:
                yield False
                return
            with _held_lock:
                _held[self.key] = self
            try:
                yield True
            finally:  # forgotten before it is released, so that a renewal never revives a released lock for long
                with _held_lock:
                    _held.pop(self.key, None)


_held_lock = threading.Lock()
_held: dict[str, DossierMutex] = {}  # the dossier locks this process holds, by key


def renew_held() -> int:
    """Give every dossier lock this process holds a whole time to live again; returns how many were renewed."""
    with _held_lock:
        held = list(_held.values())
    for mutex in held:
        # adding 0 to a held lock (count 1, limit 1) rewrites it with a fresh expiry, through the backend's own API
        mutex.backend.incr(mutex.key, 0, maximum=1, ttl=mutex.ttl_ms)
    return len(held)
