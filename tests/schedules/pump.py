"""The worker side of tests whose scheduler or backfill runs in another process with the embedded broker.

A child process with the in-process broker records its messages in the integration log and hands them to its own
broker, which nobody here consumes; this hands the queued ones to this process's broker (what the reconciler does
after a delay in production), so the pipeline under test processes them now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from hub import outbox
from hub.store.models import Message, MessageState
from tests.hub.conftest import Hub
from tests.waiting import eventually


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

    def drain(self, timeout: float = 120.0) -> None:
        """Wait until nothing handed over is in flight; a live scheduler keeps queueing polls nobody took yet.

        The bound is generous: a backfill hands over hundreds of dossiers at once, slow on a loaded CI machine.
        """
        self.hub.settle(timeout)
        busy = [(i, kind, state) for i, kind, state in self.hub.in_flight() if i in self.sent or kind not in self.kinds]
        assert busy == [], f"messages in flight that this process's broker does not hold: {busy}"

    def until(self, done: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        """Hand over what the other process queued until ``done()`` holds."""

        def handed_over_and_done() -> bool:
            self.once()
            return done()

        eventually(handed_over_and_done, timeout=timeout, what=what, every=0.2)


def synced(hub: Hub) -> Counter[tuple[str, int]]:
    """How many sync messages the polls recorded per (dossier, source revision)."""
    with hub.db.session() as session:
        rows = session.execute(
            select(Message.dossier_code, Message.dossier_version).where(Message.kind == "sync")
        ).all()
    return Counter((code or "", version or 0) for code, version in rows)
