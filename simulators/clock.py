"""The simulated clock: simulated time only moves when someone advances it, so a day of traffic takes milliseconds."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from foundation.clock import VN_TZ


class SimClock:
    """A thread-safe clock in Asia/Ho_Chi_Minh that never moves by itself and never goes back."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        self._now = start.astimezone(VN_TZ)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance_to(self, when: datetime) -> datetime:
        """Move to ``when`` (never backwards) and return the new time."""
        with self._lock:
            when = when.astimezone(VN_TZ)
            if when > self._now:
                self._now = when
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the simulated clock never goes back")
        return self.advance_to(self.now() + delta)
