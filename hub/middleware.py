"""Dramatiq middleware that records every message's life in the integration log and applies the retry policy.

What a failure means is decided by :mod:`hub.policy` (retry with backoff, park, hold, skip, give up); this applies
the decision: the message's state in the store (ending this worker's claim, :mod:`hub.claims`), the retry handed
back to the broker, the attempt row. Parked messages live in the integration log, not in the broker's dead-letter
set, which Redis expires after a week.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from foundation import logs
from foundation.clock import utcnow
from foundation.redaction import hiding, mask_text, personal_strings
from hub import attempts, claims, context
from hub.errors import ClaimedElsewhere
from hub.policy import RetryPolicy
from hub.store.db import DatabaseUnavailable
from hub.store.models import Message, MessageState

log = logs.get_logger(__name__)

CLAIMED_DELAY_MS = (500, 2000)  # another worker runs this very message: come back when it has likely finished
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
STATE_PATIENCE = 60.0  # seconds a failure's outcome waits for a database that is away before giving up
STATE_RETRY_SECONDS = (0.1, 5.0)  # the wait between tries, doubling


class IntegrationLog(Middleware):
    """Record attempts and turn each outcome into the message's next state."""

    @property
    def actor_options(self) -> set[str]:
        return {"throws"}  # error types the worker logs without a traceback: they are expected outcomes

    def __init__(self, *, renew_locks: Callable[[], int]) -> None:
        self.renew_locks = renew_locks  # the dossier locks this process holds, renewed with its leases
        self._writer: attempts.AttemptWriter | None = None
        self._leases: claims.Leases | None = None
        self._writer_lock = threading.Lock()
        self._tokens = threading.local()
        self._running = 0  # messages between before_ and after_process_message: their attempt rows are still to come

    @property
    def pending_attempts(self) -> int:
        """Attempt rows this process has not written yet (tests wait for 0 before reading the log)."""
        with self._writer_lock:
            return self._running + (self._writer.pending if self._writer is not None else 0)

    def _count_running(self, step: int) -> None:
        with self._writer_lock:
            self._running += step

    def _attempt_writer(self) -> attempts.AttemptWriter:
        with self._writer_lock:
            ctx = context.current()
            if self._writer is None or self._writer.db is not ctx.db:
                if self._writer is not None:
                    self._writer.close()
                self._writer = attempts.AttemptWriter(ctx.db, cap=ctx.settings.attempt_body_cap)
            return self._writer

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until the attempt rows of every try finished so far are written; False if ``timeout`` ran out."""
        with self._writer_lock:
            writer = self._writer
        return writer.flush(timeout) if writer is not None else True

    def _lease_heartbeat(self) -> claims.Leases:
        with self._writer_lock:
            ctx = context.current()
            if self._leases is None or self._leases.db is not ctx.db:
                if self._leases is not None:
                    self._leases.close()
                self._leases = claims.Leases(
                    ctx.db, lease_seconds=ctx.settings.message_lease_seconds, renew_locks=self.renew_locks
                )
            return self._leases

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self._leases is not None:
                self._leases.close()
                self._leases = None

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        message_id = int(message.args[0])
        record = attempts.AttemptRecord(
            message_id=message_id,
            number=int(message.options.get("hub_attempt", 0)) + 1,
            started_at=utcnow(),
            worker=f"{WORKER_ID}:{threading.current_thread().name}",
        )
        self._count_running(+1)
        self._tokens.value = (attempts.begin(record), time.perf_counter(), record)
        self._lease_heartbeat().hold()
        logs.bind(message_id=message_id, actor=message.actor_name)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._lease_heartbeat().drop()
        if getattr(self._tokens, "value", None) is not None:
            self._tokens.value = None
            self._count_running(-1)
        self._finish_context()

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
            if exception is None:
                if record.outcome == "noop":  # a duplicate broker message for a finished message: nothing happened
                    return
                if record.outcome == "running":
                    record.outcome = MessageState.SUCCEEDED.value
                self._attempt_writer().put(record)
                return
            self._handle_failure(broker, message, record, exception)
        finally:
            self._lease_heartbeat().drop()
            attempts.end(token)
            self._tokens.value = None
            self._count_running(-1)
            self._finish_context()

    def _finish_context(self) -> None:
        logs.unbind("message_id", "actor", "dossier_code", "unit")

    def _handle_failure(
        self, broker: dramatiq.Broker, message: MessageProxy, record: attempts.AttemptRecord, exc: BaseException
    ) -> None:
        ctx = context.current()
        message_id = record.message_id
        if isinstance(exc, ClaimedElsewhere):
            broker.enqueue(message.copy(), delay=random.randint(*CLAIMED_DELAY_MS))  # noqa: S311 - jitter, not secrecy
            return
        age = utcnow() - _enqueued_at(message)
        decision = RetryPolicy.from_settings(ctx.settings).decide(exc, attempt=record.number, age=age)
        if decision.state is None:  # not a try: the dossier was busy
            claims.release(ctx.db, [message_id])  # the copy sent back claims it again when the lock is free
            broker.enqueue(message.copy(), delay=decision.delay_ms)
            return
        record.error_class, record.error_message = decision.error_class, decision.error_message
        record.remote_message = decision.remote_message
        record.outcome = decision.state.value
        values: dict[str, Any] = {
            "state": decision.state.value,
            "error_class": decision.error_class,
            "error_message": decision.summary,
            "remote_message": decision.remote_message,
            "attempts": Message.attempts + 1,
            "updated_at": utcnow(),
        }
        if decision.finished:
            values["finished_at"] = utcnow()
        # the tries' records are in scope: a batch's refusal may name any of their applicants, not only this one's
        with hiding(personal_strings(record.request)):
            if decision.gave_up:
                log.warning(
                    "message_gave_up",
                    attempts=record.number,
                    error_class=decision.error_class,
                    error=mask_text(decision.error_message),
                )
            elif decision.state is MessageState.PARKED:
                log.warning(
                    "message_parked",
                    error_class=decision.error_class,
                    error=mask_text(decision.error_message),
                    remote_message=mask_text(decision.remote_message) if decision.remote_message else None,
                )
            if decision.unexpected:
                log.error("message_failed_unexpectedly", exc_info=exc)
        try:
            if decision.state is MessageState.RETRYING:
                assert decision.delay_ms is not None  # a retry always has its delay
                record.retry_delay_ms = decision.delay_ms
                values["next_attempt_at"] = utcnow() + timedelta(milliseconds=decision.delay_ms)
                retry = message.copy()
                retry.options["hub_attempt"] = record.number
                retry.options.setdefault("hub_enqueued_ms", message.options.get("hub_enqueued_ms"))
                self._set_state(ctx, message_id, values)
                broker.enqueue(retry, delay=decision.delay_ms)
            else:
                self._set_state(ctx, message_id, values)
        finally:  # the database may be away (the state then stays running until its lease lapses): keep the try
            self._attempt_writer().put(record)

    @staticmethod
    def _set_state(ctx: context.HubContext, message_id: int, values: dict[str, Any]) -> None:
        """End this thread's claim with the failure's outcome; a message it never claimed (the claim itself failed,
        or the lease was lost) keeps the state its holder gives it.

        A database that is away (a restart, a failover: the very failure being recorded, often) is waited for, up to
        :data:`STATE_PATIENCE` seconds, so the retry is scheduled as decided rather than left to the lease's end and
        the reconciler. The claim is still renewed meanwhile, and writing the same outcome twice changes nothing
        (only a running message this thread holds is ended)."""
        delay, deadline, waiting = STATE_RETRY_SECONDS[0], time.monotonic() + STATE_PATIENCE, False
        while True:
            try:
                with ctx.db.session() as session:
                    claims.end_claim(session, message_id, values)
                return
            except DatabaseUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
                if not waiting:
                    log.warning("message_state_waiting_for_database", state=values["state"])
                    waiting = True
                time.sleep(delay)
                delay = min(delay * 2, STATE_RETRY_SECONDS[1])

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        message.options.setdefault("hub_enqueued_ms", int(time.time() * 1000))


def _enqueued_at(message: MessageProxy) -> datetime:
    millis = message.options.get("hub_enqueued_ms") or message.message_timestamp
    return datetime.fromtimestamp(int(millis) / 1000, UTC)
