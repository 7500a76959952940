"""Waiting for a state another process or server thread writes, where no event of this process can announce it.

Work of this process is awaited on its own signals (the broker's queues joined, the attempt writer flushed); a
child process (a scheduler, a backfill) or a server thread only shows its progress in the database or a flag, so
this looks at the condition again at a short interval until it holds or the time is up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_SECONDS = 0.05


def eventually(
    condition: Callable[[], bool], *, timeout: float, what: str | Callable[[], str], every: float = POLL_SECONDS
) -> None:
    """Return as soon as ``condition()`` is true; AssertionError naming ``what`` after ``timeout`` seconds (a
    callable ``what`` tells the state at that moment: counts, the rows still waiting)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done after {timeout}s: {what() if callable(what) else what}")
        time.sleep(every)  # the condition lives in another process: nothing here can be notified of it
