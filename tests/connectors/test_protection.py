"""Circuit breaker and rate limits per endpoint; the Redis limit holds across processes; hung servers time out."""

from __future__ import annotations

import itertools
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
import requests

from connectors.auth import NoAuth
from connectors.errors import CircuitOpen, RateLimited, RemoteTimeout, RemoteUnavailable
from connectors.http import Endpoint, Timeouts
from connectors.protection import BreakerState, CircuitBreaker, LocalRateLimiter, RedisRateLimiter
from connectors.recording import ExchangeLog
from mappings.vendors import profile
from systems.dvcqg.connector import DvcqgConnector, ServiceEnvelope
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_probes_half_open() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        breaker.before("dvcqg")
        breaker.failure("dvcqg")
    breaker.success("dvcqg")  # a success resets the count: failures must be consecutive
    for _ in range(3):
        breaker.before("dvcqg")
        breaker.failure("dvcqg")
    assert breaker.state("dvcqg") is BreakerState.OPEN
    with pytest.raises(RemoteUnavailable) as caught:
        breaker.before("dvcqg")
    assert caught.value.retry_after == pytest.approx(10)
    clock.now = 10.5
    assert breaker.state("dvcqg") is BreakerState.HALF_OPEN
    breaker.before("dvcqg")  # the probe is let through ...
    with pytest.raises(RemoteUnavailable):
        breaker.before("dvcqg")  # ... alone
    breaker.failure("dvcqg")  # a failed probe reopens for a full cool-down
    assert breaker.state("dvcqg") is BreakerState.OPEN
    clock.now = 21
    breaker.before("dvcqg")
    breaker.success("dvcqg")
    [status] = breaker.snapshot()
    assert (status.endpoint, status.state, status.consecutive_failures) == ("dvcqg", BreakerState.CLOSED, 0)


def test_local_limiter_spaces_calls_and_refuses_to_queue_too_long() -> None:
    clock = Clock()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    limiter = LocalRateLimiter(2.0, burst=2, max_wait=1.0, clock=clock, sleep=sleep)
    for _ in range(4):
        limiter.acquire("motcua")
    assert waits == [pytest.approx(0.5), pytest.approx(0.5)]  # the burst of two, then one every half second
    limiter_tight = LocalRateLimiter(1.0, max_wait=0.5, clock=Clock(), sleep=lambda s: None)
    limiter_tight.acquire("x")
    with pytest.raises(RateLimited) as caught:
        limiter_tight.acquire("x")
    assert caught.value.retry_after == pytest.approx(1.0)


def _hammer(url: str, calls: int, stamps: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limiter = RedisRateLimiter(redis.Redis.from_url(url), 20.0, burst=1, max_wait=30)
    for _ in range(calls):
        slot = limiter.reserve("dvcqg")
        time.sleep(slot.wait)  # what acquire does
        stamps.put(slot.at)  # the slot granted, by Redis's clock: not when a loaded machine let the process run


def test_redis_limiter_holds_across_processes(redis_url: str) -> None:
    # Given four worker processes that each make 10 calls to one endpoint limited to 20 per second
    stamps: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_hammer, args=(redis_url, 10, stamps)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    times = sorted(stamps.get(timeout=5) for _ in range(40))
    # Then the 40 slots granted are 50 ms apart at least, whatever process asked for them
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.05 - 1e-6, min(gaps)
    window = [sum(1 for t in times if start <= t < start + 0.5) for start in times]
    assert max(window) <= 10  # never more than the rate: 10 per half second


def test_redis_limiter_refuses_beyond_max_wait_without_reserving(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(client, 1.0, max_wait=0.2, sleep=lambda s: None)
    limiter.acquire("portal")
    with pytest.raises(RateLimited):
        limiter.acquire("portal")
    with pytest.raises(RateLimited):
        limiter.acquire("portal")  # a refused call did not push the queue further back
    threads_ok: list[bool] = []
    fast = RedisRateLimiter(client, 1000.0, burst=50)

    def go() -> None:
        fast.acquire("other")
        threads_ok.append(True)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(threads_ok) == 20


@pytest.fixture
def silent_server(serves_http: None) -> Iterator[str]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_server_that_never_answers_is_a_retryable_timeout_within_the_bound(silent_server: str) -> None:
    log = ExchangeLog()
    endpoint = Endpoint("dvcqg", requests.Session(), base_url=silent_server, timeouts=Timeouts(1.0, 0.5), recorder=log)
    rest = DvcqgConnector(endpoint, NoAuth(), ServiceEnvelope(silent_server + "/integration"))
    started = time.monotonic()
    with pytest.raises(RemoteTimeout):
        rest.call("LayDanhSachTTHC", "517", {})
    assert time.monotonic() - started < 1.5
    soap_endpoint = Endpoint("motcua", requests.Session(), base_url=silent_server, timeouts=Timeouts(1.0, 0.5))
    soap = SoapConnector(soap_endpoint, profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))
    started = time.monotonic()
    with pytest.raises(RemoteTimeout):
        soap._operation("health", "KiemTraKetNoi", {})
    assert time.monotonic() - started < 1.5
    assert log.take()[0].error is not None


@pytest.fixture
def closed_port() -> str:
    """The address of a port nobody listens on: every call is refused at once (the endpoint is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _soap(url: str, breaker: CircuitBreaker, limiter: LocalRateLimiter | None = None) -> Callable[[], object]:
    endpoint = Endpoint("motcua", requests.Session(), base_url=url, timeouts=Timeouts(1.0, 1.0), breaker=breaker,
                        limiter=limiter)  # fmt: skip
    soap = SoapConnector(endpoint, profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))
    return lambda: soap._operation("health", "KiemTraKetNoi", {})


def _rest(url: str, breaker: CircuitBreaker, limiter: LocalRateLimiter | None = None) -> Callable[[], object]:
    endpoint = Endpoint("dvcqg", requests.Session(), base_url=url, timeouts=Timeouts(1.0, 1.0), breaker=breaker,
                        limiter=limiter)  # fmt: skip
    rest = DvcqgConnector(endpoint, NoAuth(), ServiceEnvelope(url + "/integration"))
    return lambda: rest.call("LayDanhSachTTHC", "517", {})


Connector = Callable[[str, CircuitBreaker], Callable[[], object]]


@pytest.mark.parametrize("connector", [_soap, _rest], ids=["soap", "rest"])
def test_calls_the_open_circuit_refuses_do_not_keep_it_open(closed_port: str, connector: Connector) -> None:
    # Given an endpoint that is down, whose circuit opened after two failed calls
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10, clock=clock)
    call = connector(closed_port, breaker)
    for _ in range(2):
        with pytest.raises(RemoteUnavailable) as failed:
            call()
        assert not isinstance(failed.value, CircuitOpen)
    assert breaker.state("motcua" if connector is _soap else "dvcqg") is BreakerState.OPEN

    # When messages keep coming back during the cool-down and are refused without a call
    for now in (3.0, 6.0, 9.0):
        clock.now = now
        with pytest.raises(CircuitOpen):
            call()

    # Then the cool-down still ends ten seconds after the circuit opened, and a probe goes out
    clock.now = 10.5
    with pytest.raises(RemoteUnavailable) as probed:
        call()
    assert "circuit open" not in str(probed.value)


def test_a_probe_refused_by_the_rate_limit_leaves_the_probe_to_the_next_call(closed_port: str) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=10, clock=clock)
    refusals: list[RateLimited] = []

    class Refusing(LocalRateLimiter):
        def acquire(self, endpoint: str) -> None:
            if refusals:
                raise refusals.pop()

    call = _rest(closed_port, breaker, Refusing(1000.0))
    with pytest.raises(RemoteUnavailable):
        call()  # the endpoint is down: the circuit opens
    clock.now = 10.5
    refusals.append(RateLimited("slow down"))
    with pytest.raises(RateLimited):
        call()  # the probe's turn at the rate limit is refused: it never goes out
    with pytest.raises(RemoteUnavailable) as probed:
        call()
    assert "circuit open" not in str(probed.value)  # the next call is the probe, not refused by the circuit
