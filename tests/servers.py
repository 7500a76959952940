"""Servers a test may start in its own process: the console in a uvicorn thread. Request them through the
``start_console`` fixture (tests/conftest.py), which marks the test ``server``, never call them directly."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from console.app import Console, create_app
from console.hardening import server_config
from foundation.settings import Settings
from tests.waiting import eventually


@dataclass
class Live:
    """A console running in a thread, and its base URL."""

    url: str
    console: Console


def serve(console: Console, *, trusted_proxies: tuple[str, ...] = ()) -> Iterator[Live]:
    """Run the app in a uvicorn thread on 127.0.0.1:0, configured as ``dvc-hub admin`` does, until closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # the server's limits from the environment as it is now, without filling the process's settings cache: a test
    # that sets its own environment after starting a console must still be read with it
    config = server_config(
        create_app(console), host="127.0.0.1", port=port, trusted_proxies=trusted_proxies, settings=Settings()
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=10, what="the console's start", every=0.01)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", console=console)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
