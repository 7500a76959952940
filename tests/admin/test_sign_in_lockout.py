"""Sign-in lockout that protects without locking out (issue 27): one address, however busy, slows only itself; an
account is locked only by failures from several addresses, and going on failing does not prolong the lock; parallel
wrong passwords are each counted and audited, never a server error; ``dvc-hub users unlock`` lifts a lockout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from console.auth import SignedIn, SignInRefused, ThrottlePolicy, sign_in
from console.models import SignInThrottle
from foundation.settings import get_settings
from hub.store.db import Database
from hub.store.models import AuditEntry
from migrations import upgrade
from tests.admin import seed
from tests.servers import Live

POLICY = ThrottlePolicy()
WRONG = "không-phải-mật-khẩu"


@pytest.fixture
def users(db: Database) -> Database:
    seed.users(db)
    return db


def _try(db: Database, username: str, password: str, client: str) -> SignedIn | SignInRefused:
    try:
        return sign_in(db, username, password, client=client, policy=POLICY)
    except SignInRefused as refused:
        return refused


def _throttle(db: Database, kind: str, value: str) -> SignInThrottle | None:
    with db.session() as session:
        return session.scalar(select(SignInThrottle).where(SignInThrottle.kind == kind, SignInThrottle.value == value))


def _audited(db: Database, *actions: str) -> int:
    """How many attempts the audit records: refused sign-ins are one row per name, client and minute with a count."""
    with db.session() as session:
        rows = session.scalars(select(AuditEntry.details).where(AuditEntry.action.in_(actions)))
        return sum(int((details or {}).get("count", 1)) for details in rows)


def test_a_hundred_wrong_passwords_from_one_address_do_not_stop_the_admin_signing_in_from_another(
    users: Database,
) -> None:
    # a hundred: over three times the address's lockout and ten times the account's, from one address
    attempts = [_try(users, "admin", f"{WRONG}-{i}", "203.0.113.66") for i in range(100)]

    assert all(isinstance(a, SignInRefused) for a in attempts)
    # The attacker's own address waits, longer and longer...
    last = attempts[-1]
    assert isinstance(last, SignInRefused) and last.retry_after is not None
    assert last.retry_after > timedelta(minutes=10)
    # ...but the account is not locked, and the admin signs in from the office at once
    account = _throttle(users, "username", "admin")
    assert account is not None and account.failures == 100 and account.blocked_until is None
    signed = _try(users, "admin", seed.PASSWORD, "10.20.30.40")
    assert isinstance(signed, SignedIn) and signed.username == "admin"
    assert _audited(users, "login.failed", "login.throttled") == 100 and _audited(users, "login") == 1


def _lock_from_three_addresses(db: Database) -> None:
    for i in range(POLICY.user_lockout_after):
        _try(db, "operator", WRONG, f"198.51.100.{i % POLICY.lockout_addresses}")


def test_failures_from_several_addresses_lock_the_account_and_failing_on_does_not_prolong_the_lock(
    users: Database,
) -> None:
    _lock_from_three_addresses(users)

    refused = _try(users, "operator", seed.PASSWORD, "10.20.30.40")
    assert isinstance(refused, SignInRefused) and refused.retry_after is not None
    assert refused.retry_after > timedelta(minutes=10)
    locked = _throttle(users, "username", "operator")
    assert locked is not None and locked.locked and locked.blocked_until is not None

    for _ in range(50):
        _try(users, "operator", WRONG, "198.51.100.0")
    after = _throttle(users, "username", "operator")
    assert after is not None and after.failures == POLICY.user_lockout_after + 51
    assert after.blocked_until == locked.blocked_until  # counted, but the lock ends when it said


def test_a_username_that_ends_like_a_pair_does_not_count_as_another_address(users: Database) -> None:
    # One address tries "x|operator", "y|operator"...: their pair keys end in "|operator" but are not operator's
    for i in range(POLICY.user_lockout_after):
        _try(users, f"{i}|operator", WRONG, "198.51.100.9")
        _try(users, "operator", WRONG, "198.51.100.9")
    assert isinstance(_try(users, "operator", seed.PASSWORD, "10.20.30.40"), SignedIn)


@pytest.fixture
def cli_env(users: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("DVC_HUB_DATABASE_URL", users.url)
    get_settings.cache_clear()
    yield users
    get_settings.cache_clear()


def test_users_unlock_lifts_the_lockout_from_the_shell(cli_env: Database) -> None:
    _lock_from_three_addresses(cli_env)
    assert isinstance(_try(cli_env, "operator", seed.PASSWORD, "10.20.30.40"), SignInRefused)

    runner = CliRunner()
    lifted = runner.invoke(app, ["users", "unlock", "operator"])

    assert lifted.exit_code == 0, lifted.output
    assert "đã gỡ khóa" in lifted.output
    assert isinstance(_try(cli_env, "operator", seed.PASSWORD, "198.51.100.1"), SignedIn)
    assert _audited(cli_env, "login.unlock") == 1
    unknown = runner.invoke(app, ["users", "unlock", "không-có-ai"])
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert "Không có người dùng" in unknown.output


def test_thirty_parallel_wrong_passwords_give_only_401_or_429_and_are_all_counted_and_audited(
    db: Database, live: Live
) -> None:
    start = threading.Barrier(30)

    def guess(i: int) -> int:
        with httpx.Client(base_url=live.url, timeout=60) as http:
            start.wait()
            body = {"username": "admin", "password": f"{WRONG}-{i}"}
            return http.post("/api/v1/session", json=body).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, range(30)))

    assert set(statuses) <= {401, 429}, statuses
    pair = _throttle(db, "pair", "127.0.0.1|admin")
    account = _throttle(db, "username", "admin")
    assert pair is not None and pair.failures == 30
    assert account is not None and account.failures == 30
    assert _audited(db, "login.failed", "login.throttled") == 30


@pytest.fixture
def either_db(any_db_url: str) -> Iterator[Database]:
    upgrade(any_db_url)
    database = Database(any_db_url)
    seed.users(database)
    yield database
    database.dispose()


def test_parallel_failures_are_each_counted_by_the_upsert_on_either_database(either_db: Database) -> None:
    start = threading.Barrier(30)

    def guess(i: int) -> SignedIn | SignInRefused:
        start.wait()
        return _try(either_db, "viewer", f"{WRONG}-{i}", f"198.51.100.{i % 2}")

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(guess, range(30)))

    assert all(isinstance(o, SignInRefused) for o in outcomes)
    account = _throttle(either_db, "username", "viewer")
    pairs = [_throttle(either_db, "pair", f"198.51.100.{i}|viewer") for i in range(2)]
    assert account is not None and account.failures == 30
    assert [p.failures if p else None for p in pairs] == [15, 15]
    assert _audited(either_db, "login.failed", "login.throttled") == 30


def test_refused_sign_ins_are_audited_one_row_per_name_client_and_minute_with_a_count(users: Database) -> None:
    # Given a flood of wrong passwords for one name from one address, and one from another address
    for i in range(100):
        _try(users, "admin", f"{WRONG}-{i}", "203.0.113.66")
    _try(users, "admin", WRONG, "198.51.100.7")

    # Then the flood is a row a minute (two if it straddled one), counting every attempt; the other address its own
    with users.session() as session:
        rows = session.execute(
            select(AuditEntry.client, AuditEntry.details).where(
                AuditEntry.action.in_(["login.failed", "login.throttled"])
            )
        ).all()
    flood = [details for client, details in rows if client == "203.0.113.66"]
    assert 1 <= len(flood) <= 4  # failed and throttled, each in at most two minutes
    assert sum(d["count"] for d in flood) == 100
    assert [d["count"] for client, d in rows if client == "198.51.100.7"] == [1]
