"""The console under test: a migrated, seeded SQLite store and the app served by uvicorn on an ephemeral port."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from console.app import Console, create_app
from console.hardening import server_config
from hub.store.db import Database
from tests.admin import seed
from tests.waiting import eventually


@dataclass
class Live:
    """A console running in a thread, and its base URL."""

    url: str
    console: Console


@pytest.fixture
def seeded(db: Database) -> seed.Seeded:
    seed.users(db)
    return seed.log(db)


def serve(console: Console, *, trusted_proxies: tuple[str, ...] = ()) -> Iterator[Live]:
    """Run the app in a uvicorn thread on 127.0.0.1:0, configured as ``dvc-hub admin`` does, until closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = server_config(create_app(console), host="127.0.0.1", port=port, trusted_proxies=trusted_proxies)
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


METRICS_TOKEN = "scrape-token-for-tests"


@pytest.fixture
def live(db: Database, seeded: seed.Seeded) -> Iterator[Live]:
    yield from serve(Console(db=db, metrics_token=METRICS_TOKEN))


@pytest.fixture
def client(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as http:
        yield http


def csrf_of(client: httpx.Client) -> str:
    """The CSRF token the console rendered into its forms (the double-submit value)."""
    page = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def login(client: httpx.Client, username: str) -> str:
    """Sign in through the login form; returns the CSRF token for later forms."""
    token = csrf_of(client)
    response = client.post("/login", data={"username": username, "password": seed.PASSWORD, "csrf": token, "next": "/"})
    assert response.status_code == 303, response.text
    return csrf_of(client)


@pytest.fixture
def live_url_client(live: Live) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two browsers (separate cookie jars) on the same console."""
    with (
        httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as first,
        httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as second,
    ):
        yield first, second
