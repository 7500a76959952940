"""Claiming a tick, so that a job fires once per tick however many schedulers run.

Every scheduler wakes at every tick of every job and tries to claim ``(job_id, tick)``; only the one whose claim
succeeds enqueues. In production the claim is a Redis ``SET key NX EX`` (atomic, expires by itself); with the
embedded default it is an insert into ``schedule_ticks``, whose primary key refuses the second claim.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import redis
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from foundation.clock import utcnow
from hub.store.db import Database
from schedules.models import ScheduleTick

KEY_PREFIX = "dvc-hub:tick"
# A claim must outlive every scheduler's chance to compute the same tick; claims are tiny, so keep them a while.
MIN_CLAIM_SECONDS = 3600


class Claims(Protocol):
    """Where ticks are claimed; ``claim`` is True for exactly one caller per (job, tick)."""

    def claim(self, job_id: str, tick: datetime, owner: str, *, period: timedelta) -> bool: ...

    def prune(self, before: datetime) -> int:
        """Forget claims of ticks before ``before``; returns how many were removed."""
        ...


def tick_key(job_id: str, tick: datetime) -> str:
    return f"{KEY_PREFIX}:{job_id}:{tick.isoformat()}"


class RedisClaims:
    """Claims in Redis: one key per tick, set only if absent, expiring after a few periods."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    @classmethod
    def from_url(cls, url: str) -> RedisClaims:
        return cls(redis.Redis.from_url(url))

    def claim(self, job_id: str, tick: datetime, owner: str, *, period: timedelta) -> bool:
        ttl = max(MIN_CLAIM_SECONDS, int(period.total_seconds() * 3))
        return bool(self._redis.set(tick_key(job_id, tick), owner, nx=True, ex=ttl))

    def prune(self, before: datetime) -> int:
        return 0  # keys expire by themselves

    def close(self) -> None:
        self._redis.close()


class DatabaseClaims:
    """Claims as rows of ``schedule_ticks``; the primary key (job_id, tick_at) lets one insert win."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(self, job_id: str, tick: datetime, owner: str, *, period: timedelta) -> bool:
        try:
            with self._db.session() as session:
                session.add(ScheduleTick(job_id=job_id, tick_at=tick, claimed_by=owner, claimed_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def prune(self, before: datetime) -> int:
        with self._db.session() as session:
            result = session.execute(delete(ScheduleTick).where(ScheduleTick.tick_at < before))
            return int(getattr(result, "rowcount", 0) or 0)
