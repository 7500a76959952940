"""Fixtures shared by the whole suite: databases (SQLite and the real PostgreSQL) and the real Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from devtools.servers import PrivatePostgres
from foundation.settings import get_settings
from hub.store.db import Database
from migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "config" / "topologies"
POSTGRES_ADMIN_URL = os.environ.get("DVC_HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DVC_HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# Fixtures that reach a server, directly or through a parameter: the markers they put on every test using them, so
# that ``-m "not postgres and not redis"`` (``make test-fast``) selects exactly the tests that run without services.
SERVICE_FIXTURES = {"postgres_url": "postgres", "private_postgres": "postgres", "redis_url": "redis"}
SERVICE_PARAMS = {("any_db_url", "postgres"): "postgres"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the services its fixtures need (fixtures that depend on them included)."""
    for item in items:
        needs = {mark for name, mark in SERVICE_FIXTURES.items() if name in getattr(item, "fixturenames", ())}
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            needs |= {mark for (name, value), mark in SERVICE_PARAMS.items() if callspec.params.get(name) == value}
        for mark in sorted(needs):
            item.add_marker(mark)


def _sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process; each test reads its own environment."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hub.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"dvchub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield _sqlalchemy_url(f"{base}/{name}")
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of the test's own, which it may shut down and restart (never the shared one)."""
    server = PrivatePostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Both supported databases, so a store test proves the same behaviour on each."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    """A migrated SQLite database."""
    upgrade(sqlite_url)
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The real Redis, on a database the suite owns, flushed before and after."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()
