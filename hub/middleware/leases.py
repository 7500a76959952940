"""Keep the lease of every message this process runs alive (and its dossier locks, renewed with them), so that a
long try keeps its claim and a killed worker's claims lapse within one lease."""

from __future__ import annotations

import threading
from collections.abc import Callable

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from hub import claims, context


class LeaseHeartbeat(Middleware):
    """Hold the running message's lease from before the actor runs until its outcome is recorded."""

    def __init__(self, *, renew_locks: Callable[[], int]) -> None:
        self.renew_locks = renew_locks  # the dossier locks this process holds, renewed with its leases
        self._leases: claims.Leases | None = None
        self._lock = threading.Lock()

    def _heartbeat(self) -> claims.Leases:
        with self._lock:
            ctx = context.current()
            if self._leases is None or self._leases.db is not ctx.db:
                if self._leases is not None:
                    self._leases.close()
                self._leases = claims.Leases(
                    ctx.db, lease_seconds=ctx.settings.message_lease_seconds, renew_locks=self.renew_locks
                )
            return self._leases

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        with self._lock:
            if self._leases is not None:
                self._leases.close()
                self._leases = None

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._heartbeat().hold()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        self._heartbeat().drop()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._heartbeat().drop()
