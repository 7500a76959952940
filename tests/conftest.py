"""Fixtures shared by the whole suite: databases (SQLite and the real PostgreSQL), the real Redis, and the servers a
test may start (the simulators, the console), each marking the tests that use it so that the tiers select by need."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# rich fixes a console's width at its creation when COLUMNS is set, and the CLI's consoles are created at import:
# pytest-xdist's workers start with COLUMNS=80, which would freeze every table at 80 columns whatever width a test
# asks its command for. Without it, each console reads the width (COLUMNS included) when it prints.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

import psycopg
import pytest
import redis
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings

import console.auth
from devtools.servers import PrivatePostgres
from foundation.settings import get_settings
from hub.store.db import Database
from migrations import upgrade
from simulators.server import Simulators
from tests.servers import Live, serve

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "config" / "topologies"
POSTGRES_ADMIN_URL = os.environ.get("DVC_HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DVC_HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Fixtures that reach a server, start one, a process or a browser: the marks they put on every test using them,
# directly or through a fixture that depends on them, so that ``make test-unit`` and ``make test-fast`` select by
# what a test needs. A fixture that starts such a thing requests one of these rather than doing it itself.
FIXTURE_MARKS = {
    "postgres_url": "postgres",
    "private_postgres": "postgres",
    "redis_url": "redis",
    "start_simulators": "server",
    "start_console": "server",
    "serves_http": "server",
    "processes": "subprocess",
    "shell": "subprocess",
    "browser": "browser",
    "office_tools": "subprocess",  # tests/reports/conftest.py: LibreOffice and poppler, installed when missing
    "libreoffice": "slow",
}
PARAM_MARKS = {("any_db_url", "postgres"): "postgres"}
UNIT_TIER = "DVC_HUB_TEST_TIER"  # "unit" in ``make test-unit``, which deselects every mark above

Serve = Callable[..., Iterator[Live]]


# Hypothesis in the unit tier: a fifth of each test's examples (at least 10), so the tier stays under a minute; make
# test and make test-fast run the full counts. A test's own @settings(max_examples=examples(n)) scales the same way.
hypothesis_settings.register_profile("unit", max_examples=20)
if os.environ.get(UNIT_TIER) == "unit":
    hypothesis_settings.load_profile("unit")


def examples(wanted: int) -> int:
    """How many examples a Hypothesis test runs in this tier: ``wanted`` in the full suite, a fifth in the unit tier."""
    return max(10, wanted // 5) if os.environ.get(UNIT_TIER) == "unit" else wanted


# Argon2id at its production cost takes about a fifth of a CPU second per hash or check, by design. The tests seed
# users and sign in thousands of times, so they hash at the lowest cost: the same code path and algorithm, with the
# parameters each hash carries (a child process, e.g. a CLI test's, keeps the production cost).
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CHEAP_DUMMY_HASH = CHEAP_HASHER.hash("not a password")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console.auth, "_hasher", CHEAP_HASHER)
    monkeypatch.setattr(console.auth, "_DUMMY_HASH", CHEAP_DUMMY_HASH)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """In the unit tier, a test that starts a server or a process without a fixture that says so fails at once,
    instead of quietly making the tier slow (PostgreSQL and Redis are refused by their closed ports). The refusal
    starts with the tests, after pytest-xdist has started its workers (and asked `uname` in each)."""
    if os.environ.get(UNIT_TIER) != "unit":
        return
    if getattr(session.config.option, "numprocesses", None) and not hasattr(session.config, "workerinput"):
        return  # pytest-xdist's controller: it runs no test; each worker refuses for itself

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError(
                f"the unit tier starts no {what}: request it through a fixture of tests/conftest.py's FIXTURE_MARKS"
            )

        return refused

    socket.socket.listen = refuse("server")  # type: ignore[method-assign]
    subprocess.Popen.__init__ = refuse("process")  # type: ignore[method-assign]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with what its fixtures need (fixtures that depend on them included)."""
    for item in items:
        needs = {mark for name, mark in FIXTURE_MARKS.items() if name in getattr(item, "fixturenames", ())}
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            needs |= {mark for (name, value), mark in PARAM_MARKS.items() if callspec.params.get(name) == value}
        for mark in sorted(needs):
            item.add_marker(mark)


@pytest.fixture(scope="session")
def start_simulators() -> type[Simulators]:
    """The simulators, served over HTTP for the length of a ``with`` block (marks the test ``server``)."""
    return Simulators


@pytest.fixture(scope="session")
def serves_http() -> None:
    """Requested by a fixture that starts a server of its own (a demo run, a server built to misbehave): marks the
    tests using it ``server``."""


@pytest.fixture(scope="session")
def start_console() -> Serve:
    """Serves a console in a uvicorn thread, ``for live in start_console(console): ...`` (marks the test ``server``)."""
    return serve


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
