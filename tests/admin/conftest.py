"""The console under test: a migrated, seeded SQLite store and the FastAPI app over it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.admin.app import Console, create_app
from hub.store.db import Database
from tests.admin import seed


@pytest.fixture
def seeded(db: Database) -> seed.Seeded:
    seed.users(db)
    return seed.log(db)


@pytest.fixture
def client(db: Database, seeded: seed.Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(Console(db=db)), base_url="http://127.0.0.1") as test_client:
        yield test_client


def csrf_of(client: TestClient) -> str:
    """The CSRF token the console rendered into its forms (the double-submit value)."""
    page = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def login(client: TestClient, username: str) -> str:
    """Sign in through the login form; returns the CSRF token for later forms."""
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": username, "password": seed.PASSWORD, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client)
