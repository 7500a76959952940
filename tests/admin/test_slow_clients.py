"""Issue 27, point 4: the console cuts slow clients (slowloris) and holds a bounded number of connections.

A probe held 120 of 120 half-sent connections for 45 s: uvicorn times only an idle kept-alive connection, never a
request whose headers trickle in, and ``limit_concurrency`` answers 503 only to a complete request.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from console.app import Console, create_app
from console.hardening import ConsoleConfig, GuardedH11Protocol, server_config
from hub.store.db import Database
from tests.conftest import Serve
from tests.servers import Live


def test_the_console_is_served_with_timeouts_and_a_connection_limit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"HEADER_TIMEOUT": "7", "KEEP_ALIVE_TIMEOUT": "4", "MAX_CONNECTIONS": "50"}.items():
        monkeypatch.setenv(f"DVC_HUB_CONSOLE_{name}", value)
    config = server_config(create_app(Console(db=db)), host="127.0.0.1", port=0)
    assert isinstance(config, ConsoleConfig) and config.http is GuardedH11Protocol
    assert (config.header_timeout, config.timeout_keep_alive) == (7.0, 4.0)
    assert (config.max_connections, config.limit_concurrency) == (50, 50)
    assert config.h11_max_incomplete_event_size == 16 * 1024


@pytest.fixture
def live(start_console: Serve, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("DVC_HUB_CONSOLE_HEADER_TIMEOUT", "3")
    monkeypatch.setenv("DVC_HUB_CONSOLE_MAX_CONNECTIONS", "3")
    yield from start_console(Console(db=db))


def _open(live: Live) -> socket.socket:
    host, port = live.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` without an answer (recv blocks until it does, 10 s at most)."""
    started = time.monotonic()
    assert sock.recv(1024) == b"", "the server answered instead of cutting the connection"
    return time.monotonic() - started


def test_a_client_that_sends_its_headers_slowly_is_cut(live: Live) -> None:
    # Given a client that opens a request and sends a header line now and then, never the blank line that ends them
    with _open(live) as slow:
        slow.sendall(b"GET /login HTTP/1.1\r\nHost: console\r\n")
        slow.sendall(b"X-Slow: 1\r\n")
        # Then the server cuts it once the header timeout (3 s) has passed, before the socket's own 10 s
        assert _closed_after(slow) < 9
    # and everyone else is served meanwhile and after
    assert httpx.get(f"{live.url}/login", timeout=10).status_code == 200


def test_connections_beyond_the_limit_are_closed_as_they_open(live: Live) -> None:
    held = [_open(live) for _ in range(3)]
    try:
        with _open(live) as extra:
            assert _closed_after(extra) < 2.5  # at once, not when its headers time out (3 s)
    finally:
        for sock in held:
            sock.close()
    # once they are gone, the console answers again
    assert httpx.get(f"{live.url}/login", timeout=10).status_code == 200
