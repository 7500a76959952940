"""A tick is claimed once, in Redis and in the database alike, however many claimants race for it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import redis

from hub.store.db import Database
from migrations import upgrade
from schedules.claims import DatabaseClaims, RedisClaims, tick_key

TICK = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _race(claim: object, claimants: int = 8) -> list[str]:
    """``claimants`` threads claim the same tick at the same moment; the owners whose claim succeeded."""
    barrier = threading.Barrier(claimants)
    won: list[str] = []
    lock = threading.Lock()

    def run(owner: str) -> None:
        barrier.wait()
        if claim(owner):  # type: ignore[operator]
            with lock:
                won.append(owner)

    threads = [threading.Thread(target=run, args=(f"s{i}",)) for i in range(claimants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won


def test_redis_lets_one_claimant_win_and_the_claim_expires(redis_url: str) -> None:
    claims = RedisClaims.from_url(redis_url)
    won = _race(lambda owner: claims.claim("poll:mc:49", TICK, owner, period=MINUTE))
    assert len(won) == 1
    client = redis.Redis.from_url(redis_url)
    key = tick_key("poll:mc:49", TICK)
    assert key == "dvc-hub:tick:poll:mc:49:2026-11-26T04:00:00+00:00"
    assert client.get(key) == won[0].encode()
    assert 0 < client.ttl(key) <= 3600
    assert claims.claim("poll:mc:49", TICK + MINUTE, "s0", period=MINUTE)
    assert claims.claim("poll:mc:517", TICK, "s0", period=MINUTE)
    client.close()
    claims.close()


def test_a_long_period_keeps_its_claim_for_several_periods(redis_url: str) -> None:
    claims = RedisClaims.from_url(redis_url)
    assert claims.claim("daily:late-scan", TICK, "s0", period=timedelta(days=1))
    client = redis.Redis.from_url(redis_url)
    assert client.ttl(tick_key("daily:late-scan", TICK)) > 2 * 86_400
    client.close()
    claims.close()


def test_the_database_lets_one_claimant_win(any_db_url: str) -> None:
    upgrade(any_db_url)
    db = Database(any_db_url)
    claims = DatabaseClaims(db)
    won = _race(lambda owner: claims.claim("poll:mc:49", TICK, owner, period=MINUTE))
    assert len(won) == 1
    assert not claims.claim("poll:mc:49", TICK, "late", period=MINUTE)
    assert claims.claim("poll:mc:49", TICK + MINUTE, "s0", period=MINUTE)
    assert claims.prune(TICK + MINUTE) == 1
    assert claims.claim("poll:mc:49", TICK, "after-prune", period=MINUTE)
    db.dispose()
