"""Protection of the remote systems: a circuit breaker and a rate limit per endpoint.

A backlog (a portal outage that ends, a replay of ten thousand parked messages) must never flood a province's
one-stop-shop or the national portal. The circuit breaker stops calling an endpoint that keeps failing and probes
it again after a cool-down; the rate limiter spaces calls so the endpoint never sees more than its configured rate.
In production the rate limit is shared by every worker process through Redis (GCRA in one Lua script, on the Redis
server's clock); without Redis it is a token bucket in the process. Both raise only :mod:`hub.errors` exceptions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import redis

from connectors.errors import CircuitOpen, RateLimited, RemoteUnavailable

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls flow
    OPEN = "open"  # calls fail fast until the cool-down ends
    HALF_OPEN = "half_open"  # one probe call is let through; its outcome closes or reopens the circuit


@dataclass(frozen=True, slots=True)
class CircuitStatus:
    """What an administrator sees about one endpoint's circuit."""

    endpoint: str
    state: BreakerState
    consecutive_failures: int
    opened_at: float | None
    retry_in: float | None  # seconds until a probe is allowed, when open


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class CircuitBreaker:
    """Per-endpoint circuit breaker: opens after ``failure_threshold`` consecutive failures, probes after ``cooldown``.

    Only failures that say the endpoint is unwell count (unreachable, 5xx, timeout); a refused record is the
    record's problem, not the endpoint's, and counts as a success for the circuit. Thread-safe; per process.
    """

    def __init__(self, *, failure_threshold: int = 5, cooldown: float = 30.0, clock: Clock = time.monotonic) -> None:
        if failure_threshold < 1 or cooldown < 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown >= 0")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._circuits: dict[str, _Circuit] = {}

    def before(self, endpoint: str) -> None:
        """Raise :class:`RemoteUnavailable` when the circuit is open (or half-open with a probe in flight)."""
        with self._lock:
            circuit = self._circuits.setdefault(endpoint, _Circuit())
            if circuit.opened_at is None:
                return
            remaining = circuit.opened_at + self.cooldown - self._clock()
            if remaining <= 0 and not circuit.probing:
                circuit.probing = True
                return
        wait = max(remaining, 0.0)
        error = CircuitOpen(
            f"Tạm ngừng gọi {endpoint} sau {circuit.failures} lỗi liên tiếp, thử lại sau {wait:.0f} giây "
            f"/ circuit open for {endpoint}",
            target=endpoint,
        )
        error.retry_after = wait or self.cooldown
        raise error

    def abandon(self, endpoint: str) -> None:
        """A call let through as the probe did not go out after all (its turn at the rate limit was refused): the
        next call may probe instead."""
        with self._lock:
            circuit = self._circuits.setdefault(endpoint, _Circuit())
            circuit.probing = False

    def success(self, endpoint: str) -> None:
        with self._lock:
            self._circuits[endpoint] = _Circuit()

    def failure(self, endpoint: str) -> None:
        with self._lock:
            circuit = self._circuits.setdefault(endpoint, _Circuit())
            circuit.failures += 1
            if circuit.probing or circuit.failures >= self.failure_threshold:
                circuit.opened_at = self._clock()
            circuit.probing = False

    def state(self, endpoint: str) -> BreakerState:
        return self._status(endpoint).state

    def snapshot(self) -> list[CircuitStatus]:
        """Every endpoint's circuit, for the admin console and health checks."""
        with self._lock:
            endpoints = sorted(self._circuits)
        return [self._status(e) for e in endpoints]

    def _status(self, endpoint: str) -> CircuitStatus:
        with self._lock:
            circuit = self._circuits.get(endpoint, _Circuit())
            if circuit.opened_at is None:
                return CircuitStatus(endpoint, BreakerState.CLOSED, circuit.failures, None, None)
            remaining = circuit.opened_at + self.cooldown - self._clock()
            state = BreakerState.OPEN if remaining > 0 and not circuit.probing else BreakerState.HALF_OPEN
            return CircuitStatus(endpoint, state, circuit.failures, circuit.opened_at, max(remaining, 0.0))


class RateLimiter(Protocol):
    """Blocks until one call to ``endpoint`` is allowed; raises :class:`RateLimited` rather than wait too long."""

    def acquire(self, endpoint: str) -> None: ...


class LocalRateLimiter:
    """A token bucket per endpoint, in this process (the embedded default, or a single worker)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        max_wait: float = 30.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}  # theoretical arrival time, as in GCRA

    def acquire(self, endpoint: str) -> None:
        interval = 1.0 / self.rate
        tolerance = interval * (self.burst - 1)
        with self._lock:
            now = self._clock()
            tat = max(self._next_free.get(endpoint, now), now)
            wait = tat - tolerance - now
            if wait > self.max_wait:
                raise _too_long(endpoint, wait)
            self._next_free[endpoint] = tat + interval
        if wait > 0:
            self._sleep(wait)


# GCRA (generic cell rate algorithm) on the Redis server's clock, so every process agrees on time. KEYS[1] holds the
# theoretical arrival time in microseconds. ARGV: interval µs, tolerance µs (interval × (burst − 1)), max wait µs.
# Returns the microseconds the caller must wait before its call (0 = go now); -1 when that exceeds max wait, in
# which case nothing is reserved.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {-1, wait} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {wait, now + wait}
"""


@dataclass(frozen=True, slots=True)
class Slot:
    wait: float  # seconds until the slot
    at: float  # the slot, in seconds since the epoch by the Redis server's clock


class RedisRateLimiter:
    """The same limit shared by every worker process through Redis: a reservation per call, made atomically."""

    def __init__(
        self,
        client: redis.Redis,
        rate: float,
        *,
        burst: int = 1,
        max_wait: float = 30.0,
        prefix: str = "dvc-hub:ratelimit:",
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_wait = max_wait
        self.prefix = prefix
        self._client = client
        self._script = client.register_script(_GCRA)
        self._sleep = sleep

    def acquire(self, endpoint: str) -> None:
        slot = self.reserve(endpoint)
        if slot.wait > 0:
            self._sleep(slot.wait)

    def reserve(self, endpoint: str) -> Slot:
        """The next free slot for ``endpoint``, taken atomically: how long to wait for it, and when it is by Redis's
        clock (the same clock for every process, unlike when a process gets to run after waiting)."""
        interval = round(1_000_000 / self.rate)
        try:
            reply = self._script(
                keys=[self.prefix + endpoint],
                args=[interval, interval * (self.burst - 1), round(self.max_wait * 1_000_000)],
            )
        except redis.RedisError as exc:
            raise RemoteUnavailable(
                f"Không đọc được giới hạn tần suất cho {endpoint} từ Redis / rate limiter unavailable: "
                f"{type(exc).__name__}",
                target=endpoint,
            ) from exc
        code, value = (int(v) for v in reply)
        if code < 0:
            raise _too_long(endpoint, value / 1_000_000)
        return Slot(wait=code / 1_000_000, at=value / 1_000_000)


def _too_long(endpoint: str, wait: float) -> RateLimited:
    return RateLimited(
        f"Hàng đợi gửi tới {endpoint} quá dài, thử lại sau {wait:.1f} giây / local rate limit for {endpoint}",
        retry_after=wait,
        target=endpoint,
    )
