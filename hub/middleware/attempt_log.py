"""One attempt row per try at a message: opened before the actor runs (the connectors add their exchanges to it),
written in batches after, once the outcome is known (:mod:`hub.middleware.outcomes` fills in a failure's)."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from foundation.clock import utcnow
from hub import attempts, context
from hub.store.models import MessageState

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
NOT_A_TRY = "noop"  # the outcome of a try that did nothing (a duplicate, or given back unrun): no row
UNDECIDED = "running"  # a failed try whose outcome was never decided (its outcome middleware failed): no row


class AttemptLog(Middleware):
    """Open each try's record, and write its row when the try ends."""

    def __init__(self) -> None:
        self._writer: attempts.AttemptWriter | None = None
        self._lock = threading.Lock()
        self._tokens = threading.local()
        self._running = 0  # messages between before_ and after_process_message: their attempt rows are still to come

    @property
    def pending_attempts(self) -> int:
        """Attempt rows this process has not written yet (tests wait for 0 before reading the log)."""
        with self._lock:
            return self._running + (self._writer.pending if self._writer is not None else 0)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until the attempt rows of every try finished so far are written; False if ``timeout`` ran out."""
        with self._lock:
            writer = self._writer
        return writer.flush(timeout) if writer is not None else True

    def _count_running(self, step: int) -> None:
        with self._lock:
            self._running += step

    def _attempt_writer(self) -> attempts.AttemptWriter:
        with self._lock:
            ctx = context.current()
            if self._writer is None or self._writer.db is not ctx.db:
                if self._writer is not None:
                    self._writer.close()
                self._writer = attempts.AttemptWriter(ctx.db, cap=ctx.settings.attempt_body_cap)
            return self._writer

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        record = attempts.AttemptRecord(
            message_id=int(message.args[0]),
            number=int(message.options.get("hub_attempt", 0)) + 1,
            started_at=utcnow(),
            worker=f"{WORKER_ID}:{threading.current_thread().name}",
        )
        self._count_running(+1)
        self._tokens.value = (attempts.begin(record), time.perf_counter(), record)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if getattr(self._tokens, "value", None) is not None:
            self._tokens.value = None
            self._count_running(-1)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        token, started, record = self._tokens.value
        try:
            record.finished_at = utcnow()
            record.duration_ms = (time.perf_counter() - started) * 1000
            if exception is None and record.outcome == UNDECIDED:
                record.outcome = MessageState.SUCCEEDED.value
            if record.outcome not in (NOT_A_TRY, UNDECIDED):
                self._attempt_writer().put(record)
        finally:
            attempts.end(token)
            self._tokens.value = None
            self._count_running(-1)
