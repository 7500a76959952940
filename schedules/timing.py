"""A job's schedule and the identity of its ticks.

Every scheduler process must name a tick the same way, whenever it started, so that a claim on the tick is a claim
every other scheduler sees. A tick is therefore a time computed from the schedule alone: intervals are aligned to
the Unix epoch (a 60 s poll ticks at every whole minute, not 60 s after the process started) and cron expressions
are read in Vietnam time (a catalogue refresh "at 02:15" means 02:15 in Hà Nội whatever the server's timezone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How far back to look for a cron expression's latest tick: the first window holding one wins, so a per-minute
# expression costs a couple of trigger steps and a yearly one a few hundred at worst.
_CRON_LOOKBACKS = (timedelta(minutes=2), timedelta(hours=2), timedelta(days=2), timedelta(days=40), timedelta(days=400))


class Schedule(Protocol):
    """When a job fires; ``latest(now)`` is the tick identity every scheduler agrees on."""

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger that wakes a scheduler at each tick."""
        ...

    def latest(self, now: datetime) -> datetime:
        """The newest tick at or before ``now``."""
        ...

    def next_after(self, now: datetime) -> datetime:
        """The first tick strictly after ``now``."""
        ...

    def period(self, now: datetime) -> timedelta:
        """The time between the ticks around ``now`` (bounds claim lifetimes and misfire grace)."""
        ...


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``seconds`` seconds, aligned to the Unix epoch."""

    seconds: int

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ConfigurationError(f"Chu kỳ phải ít nhất 1 giây (interval must be at least 1 s): {self.seconds}")

    def trigger(self) -> BaseTrigger:
        return IntervalTrigger(seconds=self.seconds, start_date=EPOCH, timezone=UTC)

    def latest(self, now: datetime) -> datetime:
        elapsed = int((now - EPOCH).total_seconds())
        return EPOCH + timedelta(seconds=elapsed - elapsed % self.seconds)

    def next_after(self, now: datetime) -> datetime:
        return self.latest(now) + timedelta(seconds=self.seconds)

    def period(self, now: datetime) -> timedelta:
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return f"every {self.seconds}s"


@dataclass(frozen=True, slots=True)
class Cron:
    """A five-field crontab expression (minute hour day month weekday) in Asia/Ho_Chi_Minh."""

    expression: str

    def __post_init__(self) -> None:
        try:
            self.trigger()
        except ValueError as exc:
            raise ConfigurationError(
                f"Biểu thức cron {self.expression!r} không hợp lệ (invalid cron expression): {exc}"
            ) from exc

    def trigger(self) -> BaseTrigger:
        return CronTrigger.from_crontab(self.expression, timezone=VN_TZ)

    def latest(self, now: datetime) -> datetime:
        trigger = self.trigger()
        for lookback in _CRON_LOOKBACKS:
            fire = trigger.get_next_fire_time(None, now - lookback)
            if fire is None or fire > now:
                continue
            while True:
                following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
                if following is None or following > now:
                    return _utc(fire)
                fire = following
        raise ConfigurationError(
            f"Biểu thức cron {self.expression!r} không có lần chạy nào trong 400 ngày qua "
            f"(no tick in the last 400 days)"
        )

    def next_after(self, now: datetime) -> datetime:
        fire = self.trigger().get_next_fire_time(None, now + timedelta(microseconds=1))
        if fire is None:
            raise ConfigurationError(f"Biểu thức cron {self.expression!r} không còn lần chạy nào (no next tick)")
        return _utc(fire)

    def period(self, now: datetime) -> timedelta:
        following = self.next_after(now)
        return self.next_after(following) - following

    def __str__(self) -> str:
        return f"cron {self.expression} (Asia/Ho_Chi_Minh)"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
