"""The console under test: a migrated, seeded SQLite store and the app served by uvicorn on an ephemeral port."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from console.app import Console
from hub.store.db import Database
from tests.admin import seed
from tests.conftest import Serve
from tests.servers import Live


@pytest.fixture
def seeded(db: Database) -> seed.Seeded:
    seed.users(db)
    return seed.log(db)


METRICS_TOKEN = "scrape-token-for-tests"


@pytest.fixture
def live(start_console: Serve, db: Database, seeded: seed.Seeded) -> Iterator[Live]:
    yield from start_console(Console(db=db, metrics_token=METRICS_TOKEN))


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
