"""The worker side of tests whose scheduler or backfill runs in another process with the embedded broker.

A child process with the in-process broker records its messages in the integration log and hands them to its own
broker, which nobody here consumes; this hands the queued ones to this process's broker (what the reconciler does
after a delay in production), so the pipeline under test processes them now.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from hub import outbox
from hub.store.models import Message, MessageState
from tests.hub.conftest import Hub


class Pump:
    def __init__(self, hub: Hub, kinds: tuple[str, ...] = ("poll",)) -> None:
        self.hub = hub
        self.kinds = kinds
        self.sent: set[int] = set()

    def once(self) -> int:
        """Hand every queued message of ``kinds`` not handed yet to this process's workers, then wait for them."""
        with self.hub.db.session() as session:
            ids = [
                i
                for i in session.scalars(
                    select(Message.id).where(Message.kind.in_(self.kinds), Message.state == MessageState.QUEUED.value)
                )
                if i not in self.sent
            ]
        if ids:
            outbox.resend(self.hub.db, ids)
            self.sent.update(ids)
            self.drain()
        return len(ids)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until nothing handed over is in flight; a live scheduler keeps queueing polls nobody took yet."""
        in_flight = [s.value for s in MessageState if s.in_flight]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.hub.db.session() as session:
                busy = [
                    (i, kind)
                    for i, kind in session.execute(select(Message.id, Message.kind).where(Message.state.in_(in_flight)))
                    if i in self.sent or kind not in self.kinds
                ]
            if not busy:
                time.sleep(0.05)  # let buffered attempt rows reach the database
                return
            time.sleep(0.02)
        raise AssertionError(f"{len(busy)} messages still in flight after {timeout}s")

    def until(self, done: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.once()
            if done():
                return
            time.sleep(0.2)
        raise AssertionError(f"not done after {timeout}s: {what}")


def synced(hub: Hub) -> Counter[tuple[str, int]]:
    """How many sync messages the polls recorded per (dossier, source revision)."""
    with hub.db.session() as session:
        rows = session.execute(
            select(Message.dossier_code, Message.dossier_version).where(Message.kind == "sync")
        ).all()
    return Counter((code or "", version or 0) for code, version in rows)
