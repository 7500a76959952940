"""Bounded connectors against a real misbehaving server: a whole call ends by its deadline, an answer by its cap.

A server trickling one byte a second never trips the read timeout (each wait on the socket is short), and a 50 MB
answer used to be read whole (about 600 MB per call once parsed). Both must end as a retryable, named error within
the configured deadline, and reading the large answer may grow memory by less than twice the cap.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
import requests

from connectors.errors import AnswerTooLarge, Bounds, DeadlineExceeded
from connectors.http import Endpoint, Timeouts, pooled_session
from connectors.recording import ExchangeLog
from devtools.hostile import hostile_server
from foundation.errors import Action, HubError
from mappings.vendors import profile
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS

DEADLINE = 2.0
CAP = 4 * 1024 * 1024
SLACK = 1.5  # the watchdog's wake-up and the socket's shutdown


@pytest.fixture(scope="module")
def server(serves_http: None) -> Iterator[str]:
    with hostile_server(trickle_every=1.0) as url:
        yield url


def _endpoint(url: str, session: requests.Session) -> Endpoint:
    return Endpoint(
        "hostile",
        session,
        base_url=url,
        timeouts=Timeouts(connect=1.0, read=30.0),  # the read timeout alone would let the trickle run for minutes
        bounds=Bounds(deadline=DEADLINE, max_answer_bytes=CAP),
        recorder=ExchangeLog(),
    )


def _rest(url: str, session: requests.Session) -> Callable[[], object]:
    endpoint = _endpoint(url, session)
    return lambda: endpoint.send("DongBoHoSoMC", "POST", url, json={"data": []})


def _soap(url: str, session: requests.Session) -> Callable[[], object]:
    connector = SoapConnector(_endpoint(url, session), profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))
    return lambda: connector._operation("health", "KiemTraKetNoi", {})


CALLS = {"rest": _rest, "soap": _soap}
# A plain session (a caller's own) gets deadline-aware adapters from the endpoint; the hub's pooled one has them.
SESSIONS = {"pooled": lambda: pooled_session(2), "plain": requests.Session}


@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("via", CALLS)
def test_a_trickling_server_ends_as_a_retryable_deadline_error_within_the_deadline(
    server: str, via: str, session: str
) -> None:
    call = CALLS[via](server + "/trickle", SESSIONS[session]())
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + SLACK, elapsed
    assert caught.value.action is Action.RETRY
    assert caught.value.error_class == "deadline_exceeded"


def _peak_growth(call: Callable[[], object]) -> tuple[HubError, int]:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        try:
            call()
        except HubError as exc:
            error = exc
        else:
            raise AssertionError("a 50 MB answer was accepted")
        return error, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("path", ["/huge", "/huge/unsized"])
@pytest.mark.parametrize("via", CALLS)
def test_a_50_mb_answer_ends_as_a_parked_size_error_naming_the_cap_growing_memory_less_than_twice_the_cap(
    server: str, via: str, path: str
) -> None:
    call = CALLS[via](server + path, pooled_session(2))
    started = time.monotonic()
    error, growth = _peak_growth(call)
    assert time.monotonic() - started < DEADLINE + SLACK
    assert isinstance(error, AnswerTooLarge), error
    assert error.action is Action.PARK  # the same question gets the same answer: no retry
    assert str(CAP) in str(error) and "options.max_answer_bytes" in str(error)
    assert growth < 2 * CAP, f"memory grew by {growth / 2**20:.1f} MiB reading a 50 MB answer (cap 4 MiB)"
