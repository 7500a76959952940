"""A dossier's lock lives as long as its holder: the worker's heartbeat keeps it while the work goes on, however long,
and a killed worker's lock frees itself within one lease — not after minutes in which every later version of the
dossier waits (what made the chaos scenarios with a killed worker take six minutes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis
from dramatiq.rate_limits.backends import RedisBackend

from foundation.settings import PROJECT_ROOT
from hub.broker import DossierMutex, renew_held
from tests.waiting import eventually

pytestmark = [pytest.mark.redis]

LEASE_MS = 1000
KEY = "deliver:000.00.17.H47-240305-0001:dvcqg"

# A worker that takes a dossier's lock and keeps working: the lease heartbeat of hub.claims runs, as in a worker.
HOLDER = textwrap.dedent(
    f"""
    import sys, threading
    from dramatiq.rate_limits.backends import RedisBackend
    from hub.broker import DossierMutex, renew_held
    from hub.claims import Leases
    from hub.store.db import Database

    mutex = DossierMutex(RedisBackend(url=sys.argv[1]), {KEY!r}, ttl_ms={LEASE_MS})
    with mutex.acquire():
        Leases(Database("sqlite:///" + sys.argv[2]), lease_seconds={LEASE_MS / 1000}, renew_locks=renew_held)
        print("held", flush=True)
        threading.Event().wait()
    """
)


def test_a_held_lock_outlives_its_lease_and_a_killed_holders_frees_itself(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    mine = DossierMutex(RedisBackend(client=client), KEY, ttl_ms=LEASE_MS)
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, str(tmp_path / "hub.sqlite3")],
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            # Given a worker holding the lock
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"

            # When its work lasts several leases, the heartbeat renewing the lock (a renewal raises its time to live)
            renewals = 0
            last = LEASE_MS

            def renewed_many_times() -> bool:
                nonlocal renewals, last
                left = int(client.pttl(mine.key))
                renewals += left > last
                last = left
                return renewals >= 8  # ≥ 8 renewals at a quarter of a lease each: two whole leases have passed

            eventually(renewed_many_times, timeout=30, what="the heartbeat renewing the lock", every=0.01)

            # Then nobody else can take it
            with mine.acquire(raise_on_failure=False) as acquired:
                assert not acquired

            # And when the worker is killed, the lock frees itself within a lease
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()
            assert int(client.pttl(mine.key)) <= LEASE_MS  # no longer renewed

            def free() -> bool:
                with mine.acquire(raise_on_failure=False) as acquired:
                    return acquired

            eventually(free, timeout=LEASE_MS / 1000 * 3, what="the killed worker's lock freeing itself")
        finally:
            holder.kill()  # a no-op once killed; ends the worker when an assertion failed
    client.close()


def test_a_released_lock_is_no_longer_renewed(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    mutex = DossierMutex(RedisBackend(client=client), KEY, ttl_ms=60_000)
    with mutex.acquire():
        assert renew_held() == 1
    assert renew_held() == 0
    assert int(client.get(mutex.key) or 0) == 0  # released: free for the next holder
    client.close()
